"""A small model with each activation exports to ONNX and runs in onnxruntime with the same outputs."""
import io
import warnings

import numpy as np
import pytest
import torch

import actlab

ort = pytest.importorskip("onnxruntime")
NEW = ["radial_bounding", "repu", "mrepu", "zorro", "zorro_asymmetric", "zorro_sigmoid", "zorro_tanh", "zorro_sloped"]


def _export_and_run(name: str, dynamo: bool) -> None:
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(8, 8), actlab.get_activation(name), torch.nn.Linear(8, 2)).eval()
    x = torch.randn(5, 8) * 2
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (x,), buf, dynamo=dynamo, input_names=["x"])
    got = ort.InferenceSession(buf.getvalue()).run(None, {"x": x.numpy()})[0]
    np.testing.assert_allclose(got, model(x).detach().numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", actlab.list_activations())
def test_onnx_torchscript_exporter(name):
    _export_and_run(name, dynamo=False)


@pytest.mark.parametrize("name", NEW)
def test_onnx_dynamo_exporter(name):
    pytest.importorskip("onnxscript")
    _export_and_run(name, dynamo=True)
