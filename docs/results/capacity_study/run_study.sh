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
# 3. Table, figure and extrapolation over every cell in the folder (including the error-count runs).
$ACTLAB capacity extrapolate $OUT --min-N 101 --out $OUT
