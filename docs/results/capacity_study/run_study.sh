#!/bin/sh
# α½(N) of the binary perceptron for plain and replicated (robust-ensemble) annealing and focusing BP; see
# docs/capacity.md.
# Resumable: a cell whose JSON exists is skipped. Run from anywhere:
#     nice -n 10 sh docs/results/capacity_study/run_study.sh
# ACTLAB overrides the command (default: python3 -m actlab from this checkout's src/).
set -e
cd "$(dirname "$0")/../../.."
OUT=docs/results/capacity_study
ACTLAB=${ACTLAB:-"env PYTHONPATH=src python3 -m actlab"}
SIM="$ACTLAB capacity simulate --act sign --K 1 --weights binary"
cell() {  # cell FILE ARGS...: one simulate --json run, written atomically
    file=$1; shift
    [ -f "$file" ] && return 0
    $SIM "$@" --json > "$file.tmp" && mv "$file.tmp" "$file"
}
# 1. Schedules chosen on validation instances (--seed 99, never the study's): N = 201, α = 0.7, 8 instances,
#    4 schedules per solver, equal proposals (plain 3000 sweeps of N; replicated 1000 sweeps of 3N).
mkdir -p $OUT/tuning
for b in 0.02,2 0.05,5 0.1,10 0.2,20; do
    cell $OUT/tuning/anneal_beta$b.json --N 201 --alphas 0.7 --instances 8 --seed 99 --bootstrap 1 \
        --solver anneal --energy hinge --sweeps 3000 --beta $b
done
for bg in 0.05,5/0.02,2 0.05,5/0.05,5 0.05,5/0.1,10 0.02,2/0.05,5; do
    cell $OUT/tuning/replicated_beta${bg%/*}_gamma${bg#*/}.json --N 201 --alphas 0.7 --instances 8 --seed 99 \
        --bootstrap 1 --solver replicated-anneal --energy hinge --sweeps 1000 --replicas 3 \
        --beta ${bg%/*} --gamma ${bg#*/}
done
# fBP (added with the solver, the same protocol): 4 schedules at a fixed budget of 400 focusing steps of one BP
#    iteration each, on the validation instances at α = 0.8 (at 0.7 a first try solved nearly every instance, so
#    the schedules could not differ there); all four solved 0/8 at 0.8, so the same four ran again at 0.75.
for a in 0.8 0.75; do
    for pd in reinforcement,0.5 reinforcement,0.8 pseudo,0.5 pseudo,0.8; do
        cell $OUT/tuning/fbp_a${a}_${pd%,*}_damping${pd#*,}.json --N 201 --alphas $a --instances 8 --seed 99 \
            --bootstrap 1 --solver fbp --fbp-steps 400 --fbp-iters 1 --fbp-init 0.1 --fbp-protocol ${pd%,*} \
            --fbp-damping ${pd#*,}
    done
done
# 2. The study (seed 0): the same budget in proposals per weight at every N; 16 instances per α (8 at N = 1001,
#    where an unsolved instance costs ~10⁹ pattern-proposals), α grids that bracket each solver's α½ (set from
#    the trend of the smaller sizes: loads far above α½ only burn the whole budget on every instance).
PLAIN="--solver anneal --energy hinge --sweeps 3000 --beta 0.1,10"
REPL="--solver replicated-anneal --energy hinge --sweeps 1000 --replicas 3 --beta 0.05,5 --gamma 0.05,5"
for N in 21 101 201 401 1001; do
    B=16; GP=0.3,0.4,0.5,0.6,0.7,0.8,0.9; GR=$GP
    [ $N = 401 ] && GP=0.3,0.4,0.5,0.6,0.7 && GR=0.4,0.5,0.6,0.7
    [ $N = 1001 ] && B=8 && GP=0.2,0.3,0.4,0.5 && GR=0.3,0.4,0.5,0.6
    REF=$( [ $N = 21 ] && echo --reference || true )
    cell $OUT/hinge_anneal_N$N.json --N $N --alphas $GP --instances $B $REF $PLAIN
    cell $OUT/hinge_replicated_N$N.json --N $N --alphas $GR --instances $B $REPL
done
# Refinement at N = 1001, where both transitions fell between two loads of the 0.1 grid: loads in between, on
# independent instances (--seed 1); `extrapolate` pools the cells of one size.
cell $OUT/hinge_anneal_N1001_fine.json --N 1001 --alphas 0.325,0.35,0.375 --instances 8 --seed 1 $PLAIN
cell $OUT/hinge_replicated_N1001_fine.json --N 1001 --alphas 0.425,0.45,0.475 --instances 8 --seed 1 $REPL
# fBP study: the schedule selected above (reinforcement, damping 0.5), 400 focusing steps of one BP iteration (an
#    iteration is P·N message updates, the pattern·weight work of one plain-annealing sweep); loads on a 0.05 grid
#    around the transition (α = 0.8 solved none of the validation instances at N = 201). At N = 401 and 1001 several
#    cells, each on its own instances (--seed), run side by side (one process each); `extrapolate` pools the cells
#    of a size, adding up the counts of a load. FBP_SIZES picks sizes (default all).
FBP="--solver fbp --fbp-steps 400 --fbp-iters 1 --fbp-init 0.1 --fbp-protocol reinforcement --fbp-damping 0.5"
for N in ${FBP_SIZES:-21 101 201 401 1001}; do
    case $N in
        21) cell $OUT/fbp_N21.json --N 21 --alphas 0.3,0.4,0.5,0.6,0.7,0.8,0.9 --instances 16 --reference $FBP & ;;
        101) cell $OUT/fbp_N101.json --N 101 --alphas 0.6,0.7,0.8,0.9 --instances 16 $FBP & ;;
        201) cell $OUT/fbp_N201.json --N 201 --alphas 0.6,0.65,0.7,0.75,0.8,0.85 --instances 16 $FBP & ;;
        401)
            for as in 0.65:0 0.7:1 0.75:2 0.8:3; do      # load:seed
                cell $OUT/fbp_N401_a${as%:*}.json --N 401 --alphas ${as%:*} --instances 16 --seed ${as#*:} $FBP &
            done ;;
        1001)   # 8 instances per load as four cells of 2 (more processes side by side on the shared CPU); the loads
                # the CPU afforded (~0.08 s of CPU per iteration at N = 1001)
            for as in 0.7:11 0.7:12 0.7:13 0.7:14 0.75:21 0.75:22; do   # 0.75: 4 instances (no CPU left for 8)
                cell $OUT/fbp_N1001_a${as%:*}_s${as#*:}.json --N 1001 --alphas ${as%:*} --instances 2 \
                    --seed ${as#*:} $FBP &
            done ;;
    esac
done
wait
# 3. The K = 3 tree committee machine of sign units (N = 3n, n odd: no tied unit), fBP and replicated annealing,
#    the same protocol and budgets. Schedules chosen on validation instances (--seed 99): N = 201, 8 instances, the
#    same four schedules per solver as above, at a load inside each solver's transition (from an exploratory run
#    on other instances, --seed 98: replicated solved 4/4 at 0.5 and 0/4 at 0.6, fBP 3/4 at 0.8 and 0/4 at 0.9).
SIM="$ACTLAB capacity simulate --act sign --K 3 --weights binary"
for bg in 0.05,5/0.02,2 0.05,5/0.05,5 0.05,5/0.1,10 0.02,2/0.05,5; do
    cell $OUT/tuning/k3_replicated_beta${bg%/*}_gamma${bg#*/}.json --N 201 --alphas 0.55 --instances 8 --seed 99 \
        --bootstrap 1 --solver replicated-anneal --energy hinge --sweeps 1000 --replicas 3 \
        --beta ${bg%/*} --gamma ${bg#*/} &
done
# fBP at 0.85 and, started when the first 0.85 cell had solved 0/8 (before the other three ended), at 0.8; the
# schedule solving the most over both loads wins.
for a in 0.85 0.8; do
    for pd in reinforcement,0.5 reinforcement,0.8 pseudo,0.5 pseudo,0.8; do
        cell $OUT/tuning/k3_fbp_a${a}_${pd%,*}_damping${pd#*,}.json --N 201 --alphas $a --instances 8 --seed 99 \
            --bootstrap 1 --solver fbp --fbp-steps 400 --fbp-iters 1 --fbp-init 0.1 --fbp-protocol ${pd%,*} \
            --fbp-damping ${pd#*,} &
    done
done
wait
# The K = 3 study (seed 0): the schedules selected above (both the defaults), the budgets of K = 1; 16 instances per
#    load (8 at N = 999); loads bracketing each solver's transition (replicated: the trend of the smaller sizes; fBP:
#    around the validation's 2/8 at 0.8, 0/8 at 0.85); N = 21 with the exact reference (both solvers on the same
#    instances). From N = 201 on, fBP runs as one cell per load on its own --seed, side by side. K3_SIZES picks sizes.
REPL3="--solver replicated-anneal --energy hinge --sweeps 1000 --replicas 3 --beta 0.05,5 --gamma 0.05,5"
FBP3="--solver fbp --fbp-steps 400 --fbp-iters 1 --fbp-init 0.1 --fbp-protocol reinforcement --fbp-damping 0.5"
for N in ${K3_SIZES:-21 99 201 501 999}; do
    case $N in
        21) G=0.5,0.6,0.7,0.8,0.9,1,1.1
            cell $OUT/k3_replicated_N21.json --N 21 --alphas $G --instances 16 --reference $REPL3
            cell $OUT/k3_fbp_N21.json --N 21 --alphas $G --instances 16 --reference $FBP3 ;;
        99) cell $OUT/k3_replicated_N99.json --N 99 --alphas 0.4,0.5,0.6,0.7,0.8 --instances 16 $REPL3
            cell $OUT/k3_fbp_N99.json --N 99 --alphas 0.6,0.7,0.8,0.9,1 --instances 16 $FBP3 ;;
        201) cell $OUT/k3_replicated_N201.json --N 201 --alphas 0.4,0.5,0.6,0.7 --instances 16 $REPL3
            for as in 0.65:0 0.7:1 0.75:2 0.8:3 0.85:4; do   # load:seed, one cell each (CPU was short)
                cell $OUT/k3_fbp_N201_a${as%:*}.json --N 201 --alphas ${as%:*} --instances 16 --seed ${as#*:} $FBP3 &
            done ;;
        501) cell $OUT/k3_replicated_N501.json --N 501 --alphas 0.3,0.4,0.5,0.6 --instances 16 $REPL3 &
            for as in 0.7:0 0.75:1 0.8:2 0.85:3; do      # load:seed
                cell $OUT/k3_fbp_N501_a${as%:*}.json --N 501 --alphas ${as%:*} --instances 16 --seed ${as#*:} $FBP3 &
            done ;;
        999) cell $OUT/k3_replicated_N999.json --N 999 --alphas 0.3,0.4,0.5,0.6 --instances 8 $REPL3 &
            # finer loads inside the replicated transition (α½ = 0.41 at N = 501), on other instances (--seed 1)
            cell $OUT/k3_replicated_N999_fine.json --N 999 --alphas 0.325,0.35,0.375 --instances 8 --seed 1 $REPL3 &
            for as in 0.7:31 0.7:32 0.75:11 0.75:12 0.8:21 0.8:22; do  # 8 instances per load as two cells of 4
                cell $OUT/k3_fbp_N999_a${as%:*}_s${as#*:}.json --N 999 --alphas ${as%:*} --instances 4 \
                    --seed ${as#*:} $FBP3 &
            done ;;
    esac
done
wait
# 3b. fBP budget scan (issue 18): does α½ at a fixed N move with the fBP budget? N = 201 (the study's 3/16 at
#    α = 0.8, 11/16 at 0.75, α½(201) ≈ 0.77), 16 new instances per load (--seed 70 at 0.8, 71 at 0.75), the SAME
#    instances and solver randomness for every budget (capacity_scan seeds both by --seed: a paired comparison;
#    instance_solved / instance_steps in each JSON). Budgets, focusing steps × BP iterations per step: the
#    study's 400 × 1; slower focusing 800 × 1 and 1600 × 1; more iterations on the same (γ, y) schedule 400 × 2
#    and 400 × 4 (a step stops early once the messages move by < 1e-3). One process at a time (shared CPU).
BUDGET=$OUT/fbp_budget
mkdir -p $BUDGET
for as in 0.8:70 0.75:71; do     # load:seed
    for si in 400,1 1600,1 400,4 800,1 400,2; do
        cell $BUDGET/k3_fbp_N201_a${as%:*}_steps${si%,*}_iters${si#*,}.json --N 201 --alphas ${as%:*} --instances 16 \
            --seed ${as#*:} --solver fbp --fbp-steps ${si%,*} --fbp-iters ${si#*,} --fbp-init 0.1 \
            --fbp-protocol reinforcement --fbp-damping 0.5
    done
done
$ACTLAB capacity extrapolate $BUDGET --out $BUDGET
# 3c. More instances at N = 999 (issue 18), the study's budget, on new instances (seeds never used at N = 999),
#    loads bracketing the transition (8/8, 4/8, 0/8 at 0.7, 0.75, 0.8 above): cells of 2 instances, one at a time,
#    in the order they ran (round-robin over the loads, so that every load grew alike; load:seed).
for as in 0.75:41 0.775:61 0.725:51 0.75:42 0.775:62 0.725:52 0.75:43 0.775:63 0.725:53 0.75:44 0.775:64 \
          0.725:54 0.725:55 0.775:65 0.725:56 0.775:66 0.725:57 0.775:67 0.725:58 0.775:68 0.7:33 0.8:23 \
          0.7:34 0.8:24 0.75:45 0.75:46 0.775:69 0.725:59 0.75:47 0.75:48 0.775:74 0.725:75 0.775:76; do
    cell $OUT/k3_fbp_N999_a${as%:*}_s${as#*:}.json --N 999 --alphas ${as%:*} --instances 2 --seed ${as#*:} $FBP3
done
# 4. Table, figures (one per machine) and extrapolation over every cell in the folder (including the error-count
#    runs); N ≥ 99 takes the K = 1 sizes from 101 and the K = 3 sizes from 99.
$ACTLAB capacity extrapolate $OUT --min-N 99 --out $OUT
