"""Builds a Hugging Face BERT encoder (config.json + model.safetensors) as an ONNX graph without torch.

The graph takes input_ids, token_type_ids and attention_mask (int64, [batch, seq]) and returns
last_hidden_state [batch, seq, hidden] and pooler_output [batch, hidden] (Tanh pooler, if the checkpoint has one).
Nodes: Gather embeddings, LayerNormalization (opset 17), MatMul by transposed weight initializers + Add bias,
Reshape/Transpose per head, scores / sqrt(d) + (1 - mask) * float32-min, Softmax, Erf GELU.
Weights are read with the pure-Python safetensors reader in tools/make_minilm_masked.py.
"""
import json
import math
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_minilm_masked import read_safetensors  # noqa: E402


class OnnxBertError(Exception):
    pass


def load_weights(model_dir):
    """{name: float32 ndarray} with any 'bert.' prefix removed; checks dtype and shape."""
    path = os.path.join(model_dir, "model.safetensors")
    if not os.path.isfile(path):
        raise OnnxBertError(f"{path}: missing (only single-file model.safetensors checkpoints are supported)")
    _, tensors = read_safetensors(path)
    out = {}
    for name, (dtype, shape, data) in tensors.items():
        if dtype != "F32":
            continue
        key = name[5:] if name.startswith("bert.") else name
        out[key] = np.frombuffer(data, dtype=np.float32).reshape(shape)
    return out


def load_config(model_dir):
    path = os.path.join(model_dir, "config.json")
    try:
        with open(path) as f:
            cfg = json.load(f)
    except (OSError, ValueError) as e:
        raise OnnxBertError(f"{path}: cannot read config: {e}")
    for k in ("hidden_size", "num_attention_heads", "num_hidden_layers"):
        if not isinstance(cfg.get(k), int) or cfg[k] <= 0:
            raise OnnxBertError(f"{path}: {k} missing or not a positive integer")
    if cfg["hidden_size"] % cfg["num_attention_heads"] != 0:
        raise OnnxBertError(f"{path}: hidden_size {cfg['hidden_size']} not divisible by {cfg['num_attention_heads']} heads")
    act = cfg.get("hidden_act", "gelu")
    if act != "gelu":
        raise OnnxBertError(f"{path}: hidden_act {act!r} not supported (only erf gelu)")
    return cfg


def build_model(model_dir):
    """An onnx.ModelProto of the encoder in model_dir."""
    cfg = load_config(model_dir)
    w = load_weights(model_dir)
    H, nh, L = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_hidden_layers"]
    dh = H // nh
    eps = float(cfg.get("layer_norm_eps", 1e-12))
    nodes, inits = [], []
    counter = [0]

    def name(prefix):
        counter[0] += 1
        return f"{prefix}_{counter[0]}"

    def init(key, arr):
        inits.append(numpy_helper.from_array(np.ascontiguousarray(arr), key))
        return key

    def weight(key, shape=None):
        if key not in w:
            raise OnnxBertError(f"{model_dir}/model.safetensors: missing tensor {key}")
        a = w[key]
        if shape is not None and list(a.shape) != list(shape):
            raise OnnxBertError(f"{model_dir}/model.safetensors: {key} has shape {list(a.shape)}, expected {list(shape)}")
        return a

    def node(op, inputs, **attrs):
        out = name(op.lower())
        nodes.append(helper.make_node(op, inputs, [out], name=out, **attrs))
        return out

    def linear(x, prefix, n_in, n_out):
        wt = weight(prefix + ".weight", [n_out, n_in])
        b = weight(prefix + ".bias", [n_out])
        y = node("MatMul", [x, init(prefix + ".weight_t", wt.T)])
        return node("Add", [y, init(prefix + ".bias", b)])

    def layer_norm(x, prefix):
        g = weight(prefix + ".weight", [H])
        b = weight(prefix + ".bias", [H])
        return node("LayerNormalization", [x, init(prefix + ".weight", g), init(prefix + ".bias", b)], axis=-1, epsilon=eps)

    # Embeddings.
    word = weight("embeddings.word_embeddings.weight")
    pos = weight("embeddings.position_embeddings.weight")
    if word.ndim != 2 or word.shape[1] != H or pos.ndim != 2 or pos.shape[1] != H:
        raise OnnxBertError(f"{model_dir}: embedding tables do not have width {H}")
    e = node("Gather", [init("word_embeddings", word), "input_ids"], axis=0)
    seq = node("Shape", ["input_ids"], start=1, end=2)
    zero1 = init("zero_1d", np.array([0], dtype=np.int64))
    positions = node("Slice", [init("position_ids", np.arange(pos.shape[0], dtype=np.int64)), zero1, seq, zero1])
    e = node("Add", [e, node("Gather", [init("position_embeddings", pos), positions], axis=0)])
    if "embeddings.token_type_embeddings.weight" in w:
        tt = weight("embeddings.token_type_embeddings.weight")
        e = node("Add", [e, node("Gather", [init("token_type_embeddings", tt), "token_type_ids"], axis=0)])
    x = layer_norm(e, "embeddings.LayerNorm")

    # Additive mask term [B, 1, 1, S]: 0 where attended, float32 min where padded.
    m = node("Cast", ["attention_mask"], to=TensorProto.FLOAT)
    m = node("Sub", [init("one_f32", np.array(1.0, dtype=np.float32)), m])
    m = node("Mul", [m, init("neg_big", np.array(np.finfo(np.float32).min, dtype=np.float32))])
    mask_term = node("Unsqueeze", [m, init("axes_1_2", np.array([1, 2], dtype=np.int64))])
    head_shape = init("head_shape", np.array([0, 0, nh, dh], dtype=np.int64))
    merge_shape = init("merge_shape", np.array([0, 0, H], dtype=np.int64))
    scale = init("sqrt_dh", np.array(math.sqrt(dh), dtype=np.float32))
    sqrt2 = init("sqrt2", np.array(math.sqrt(2.0), dtype=np.float32))
    half = init("half", np.array(0.5, dtype=np.float32))

    inter = cfg.get("intermediate_size", 4 * H)
    for i in range(L):
        p = f"encoder.layer.{i}."
        q = node("Transpose", [node("Reshape", [linear(x, p + "attention.self.query", H, H), head_shape])], perm=[0, 2, 1, 3])
        k = node("Transpose", [node("Reshape", [linear(x, p + "attention.self.key", H, H), head_shape])], perm=[0, 2, 3, 1])
        v = node("Transpose", [node("Reshape", [linear(x, p + "attention.self.value", H, H), head_shape])], perm=[0, 2, 1, 3])
        s = node("Add", [node("Div", [node("MatMul", [q, k]), scale]), mask_term])
        probs = node("Softmax", [s], axis=-1)
        ctx = node("Reshape", [node("Transpose", [node("MatMul", [probs, v])], perm=[0, 2, 1, 3]), merge_shape])
        a = linear(ctx, p + "attention.output.dense", H, H)
        x = layer_norm(node("Add", [a, x]), p + "attention.output.LayerNorm")
        h = linear(x, p + "intermediate.dense", H, inter)
        g = node("Mul", [node("Mul", [h, half]), node("Add", [node("Erf", [node("Div", [h, sqrt2])]), "one_f32"])])
        o = linear(g, p + "output.dense", inter, H)
        x = layer_norm(node("Add", [o, x]), p + "output.LayerNorm")

    nodes.append(helper.make_node("Identity", [x], ["last_hidden_state"], name="last_hidden_state"))
    outputs = [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, ["batch", "seq", H])]
    if "pooler.dense.weight" in w:
        # Gather keeps [B, 1, H] through the dense layer (DeepSparse 1.8 asserts on a MatMul of a 2-D [B, H]
        # activation), then Squeeze.
        one1 = init("one_1d", np.array([1], dtype=np.int64))
        cls = node("Gather", [x, zero1], axis=1)
        pooled = node("Squeeze", [node("Tanh", [linear(cls, "pooler.dense", H, H)]), one1])
        nodes.append(helper.make_node("Identity", [pooled], ["pooler_output"], name="pooler_output"))
        outputs.append(helper.make_tensor_value_info("pooler_output", TensorProto.FLOAT, ["batch", H]))

    inputs = [helper.make_tensor_value_info(n, TensorProto.INT64, ["batch", "seq"])
              for n in ("input_ids", "token_type_ids", "attention_mask")]
    graph = helper.make_graph(nodes, "bert_encoder", inputs, outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="bertc-tools-onnx_bert")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model, cfg


def save(model, path):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    onnx.save(model, path)
