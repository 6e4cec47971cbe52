#!/usr/bin/env python3
"""Build the small random Qwen3.5/3.6-MoE checkpoints and their golden logits.

Run on the GPU machine (needs torch, transformers >= 5.17, safetensors):
    python3 tools/reference/make_fixtures.py OUT_DIR
It writes OUT_DIR/<name>/ for every fixture below:
    config.json, generation_config.json   as save_pretrained writes them
    *.safetensors (+ index)                bf16, the layout named in FIXTURES
    ref.json                               prompt_ids, greedy_ids, shapes
    ref_prefill_logits.npy                 float32 [len(prompt), vocab]
    ref_decode_logits.npy                  float32 [len(greedy)-1, vocab]
Golden logits come from transformers' Qwen3_5MoeForConditionalGeneration run in float32 on the
CPU (no TF32) from the saved bf16 weights: prefill of the prompt, then one token at a time with
the model's own cache (greedy). Decode row i is the logits after feeding greedy_ids[i].
"""
import json, os, sys, shutil, math
import numpy as np
import torch
from safetensors.torch import load_file, save_file
from transformers import Qwen3_5MoeConfig, Qwen3_5MoeForConditionalGeneration

torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False

# Two shapes that differ wherever an index could be confused: GQA ratios, dk != dv, nv/nk,
# top-k, shared vs routed width, rope theta and rotary fraction.
FIXTURES = {
    "tiny-fused": dict(
        layout="fused", shards=1, vocab=1024, hidden=64, layers=8,
        heads=4, kv_heads=2, head_dim=32, partial=0.25, theta=10000.0,
        lin_k_heads=2, lin_v_heads=4, lin_k_dim=16, lin_v_dim=16,
        experts=16, top_k=4, moe_inter=32, shared_inter=32, seed=1),
    "tiny-sharded": dict(
        layout="per_expert", shards=3, vocab=512, hidden=64, layers=8,
        heads=6, kv_heads=2, head_dim=16, partial=0.5, theta=1000000.0,
        lin_k_heads=2, lin_v_heads=6, lin_k_dim=24, lin_v_dim=16,
        experts=16, top_k=6, moe_inter=24, shared_inter=48, seed=2),
}
PROMPT_LEN = 80      # > one GDN chunk of 64, so chunked prefill has a full and a partial chunk
GREEDY = 17          # greedy tokens: 1 from the prefill + 16 decode steps


def make_config(f):
    text = dict(
        vocab_size=f["vocab"], hidden_size=f["hidden"], num_hidden_layers=f["layers"],
        num_attention_heads=f["heads"], num_key_value_heads=f["kv_heads"], head_dim=f["head_dim"],
        linear_num_key_heads=f["lin_k_heads"], linear_num_value_heads=f["lin_v_heads"],
        linear_key_head_dim=f["lin_k_dim"], linear_value_head_dim=f["lin_v_dim"],
        linear_conv_kernel_dim=4, num_experts=f["experts"], num_experts_per_tok=f["top_k"],
        moe_intermediate_size=f["moe_inter"], shared_expert_intermediate_size=f["shared_inter"],
        max_position_embeddings=4096, rms_norm_eps=1e-6, tie_word_embeddings=False,
        layer_types=["full_attention" if (i + 1) % 4 == 0 else "linear_attention" for i in range(f["layers"])],
        rope_parameters=dict(rope_type="default", rope_theta=f["theta"], partial_rotary_factor=f["partial"],
                             mrope_section=[1, 1, 0] if f["head_dim"] * f["partial"] <= 8 else [2, 1, 1],
                             mrope_interleaved=True),
        eos_token_id=f["vocab"] - 1, pad_token_id=f["vocab"] - 2, bos_token_id=f["vocab"] - 2,
    )
    vision = dict(depth=1, hidden_size=32, intermediate_size=64, num_heads=2, patch_size=16,
                  out_hidden_size=f["hidden"], num_position_embeddings=64)
    return Qwen3_5MoeConfig(text_config=text, vision_config=vision, tie_word_embeddings=False)


@torch.no_grad()
def randomize(model, seed):
    """Weights with spread: unit-variance projections, visible norm offsets, real decays."""
    g = torch.Generator().manual_seed(seed)
    def normal(shape, std): return torch.randn(shape, generator=g) * std
    for name, p in model.named_parameters():
        if not name.startswith("model.language_model") and not name.startswith("lm_head"):
            p.copy_(normal(p.shape, 0.02)); continue
        if name.endswith("A_log"):
            p.copy_(torch.log(torch.rand(p.shape, generator=g) * 1.9 + 0.1))
        elif name.endswith("dt_bias"):
            p.copy_(normal(p.shape, 0.5))
        elif name.endswith("linear_attn.norm.weight"):            # plain weight
            p.copy_(torch.rand(p.shape, generator=g) + 0.5)
        elif "norm" in name:                                       # zero-centred (1 + w)
            p.copy_(normal(p.shape, 0.2))
        elif name.endswith("conv1d.weight"):
            p.copy_(normal(p.shape, 0.5))
        elif name.startswith("lm_head"):
            p.copy_(normal(p.shape, 3.0 / math.sqrt(p.shape[-1])))
        elif name.endswith("embed_tokens.weight"):
            p.copy_(normal(p.shape, 1.0))
        elif name.endswith("mlp.gate.weight"):
            p.copy_(normal(p.shape, 2.0 / math.sqrt(p.shape[-1])))
        else:
            p.copy_(normal(p.shape, 1.0 / math.sqrt(p.shape[-1])))


def read_dir(d):
    t = {}
    for f in sorted(os.listdir(d)):
        if f.endswith(".safetensors"):
            t.update(load_file(os.path.join(d, f)))
    return t


def write_layout(tensors, out, layout, shards):
    """Rewrite the saved tensors with fused or per-expert experts, in `shards` files."""
    res = {}
    for k, v in tensors.items():
        if k.endswith("mlp.experts.gate_up_proj") and layout == "per_expert":
            base = k[: -len("gate_up_proj")]; inter = v.shape[1] // 2
            for e in range(v.shape[0]):
                res[f"{base}{e}.gate_proj.weight"] = v[e, :inter].contiguous()
                res[f"{base}{e}.up_proj.weight"] = v[e, inter:].contiguous()
        elif k.endswith("mlp.experts.down_proj") and layout == "per_expert":
            base = k[: -len("down_proj")]
            for e in range(v.shape[0]):
                res[f"{base}{e}.down_proj.weight"] = v[e].contiguous()
        else:
            res[k] = v.contiguous()
    if layout == "fused":  # gather per-expert tensors into fused ones if save_pretrained split them
        per = {}
        for k in list(res):
            parts = k.split(".")
            if "experts" in parts and parts[-1] == "weight" and parts[parts.index("experts") + 1].isdigit():
                i = parts.index("experts"); base = ".".join(parts[: i + 1]) + "."
                per.setdefault(base, {})[(int(parts[i + 1]), parts[i + 2])] = res.pop(k)
        for base, d in per.items():
            n = 1 + max(e for e, _ in d)
            res[base + "gate_up_proj"] = torch.stack([torch.cat([d[(e, "gate_proj")], d[(e, "up_proj")]]) for e in range(n)])
            res[base + "down_proj"] = torch.stack([d[(e, "down_proj")] for e in range(n)])
    for f in os.listdir(out):
        if f.endswith(".safetensors") or f.endswith(".safetensors.index.json"):
            os.remove(os.path.join(out, f))
    keys = sorted(res)
    if shards == 1:
        save_file({k: res[k] for k in keys}, os.path.join(out, "model.safetensors"), metadata={"format": "pt"})
        return
    per_shard = math.ceil(len(keys) / shards); wmap = {}; total = 0
    for s in range(shards):
        name = f"model-{s + 1:05d}-of-{shards:05d}.safetensors"
        part = {k: res[k] for k in keys[s * per_shard:(s + 1) * per_shard]}
        save_file(part, os.path.join(out, name), metadata={"format": "pt"})
        for k, v in part.items():
            wmap[k] = name; total += v.numel() * v.element_size()
    json.dump({"metadata": {"total_size": total}, "weight_map": wmap},
              open(os.path.join(out, "model.safetensors.index.json"), "w"), indent=2)


@torch.no_grad()
def golden(model_dir, prompt):
    model = Qwen3_5MoeForConditionalGeneration.from_pretrained(model_dir, dtype=torch.float32, attn_implementation="eager")
    model.eval()
    ids = torch.tensor([prompt])
    out = model(input_ids=ids, use_cache=True)
    prefill = out.logits[0].float().numpy()
    cache = out.past_key_values
    greedy = [int(prefill[-1].argmax())]
    decode = []
    for _ in range(GREEDY - 1):
        pos = torch.tensor([[len(prompt) + len(decode)]])
        o = model(input_ids=torch.tensor([[greedy[-1]]]), past_key_values=cache, use_cache=True)
        cache = o.past_key_values
        row = o.logits[0, -1].float().numpy(); decode.append(row); greedy.append(int(row.argmax()))
    full = model(input_ids=torch.tensor([prompt + greedy[:-1]])).logits[0].float().numpy()
    # The cached path and one full forward must agree: catches cache misuse in this script.
    dec = np.stack(decode)
    agree = np.abs(full[len(prompt):] - dec).max() / np.abs(dec).max()
    return prefill, dec, greedy, agree


def main():
    out_root = sys.argv[1]
    os.makedirs(out_root, exist_ok=True)
    for name, f in FIXTURES.items():
        torch.manual_seed(f["seed"])
        model = Qwen3_5MoeForConditionalGeneration(make_config(f))
        randomize(model, f["seed"])
        d = os.path.join(out_root, name)
        shutil.rmtree(d, ignore_errors=True)
        model.to(torch.bfloat16).save_pretrained(d)
        saved = read_dir(d)
        native = "fused" if any(k.endswith("gate_up_proj") for k in saved) else "per_expert"
        print(f"{name}: save_pretrained wrote {len(saved)} tensors, experts {native}")
        rng = np.random.default_rng(f["seed"])
        prompt = [int(x) for x in rng.integers(0, f["vocab"] - 2, PROMPT_LEN)]
        prefill, decode, greedy, agree = golden(d, prompt)
        write_layout(saved, d, f["layout"], f["shards"])
        # Reload the rewritten layout; transformers should read it to the same logits. (The numpy
        # reference, tools/reference/qwen35_reference.py, reads either layout and is run after this.)
        try:
            prefill2, _, greedy2, _ = golden(d, prompt)
            print(f"{name}: transformers reloads the {f['layout']} layout: max diff "
                  f"{np.abs(prefill2 - prefill).max():.3e}, greedy equal {greedy2 == greedy}")
        except Exception as e:  # noqa: BLE001 - report and go on
            print(f"{name}: transformers cannot reload the {f['layout']} layout: {e}")
        np.save(os.path.join(d, "ref_prefill_logits.npy"), prefill.astype(np.float32))
        np.save(os.path.join(d, "ref_decode_logits.npy"), decode.astype(np.float32))
        json.dump({"prompt_ids": prompt, "greedy_ids": greedy, "vocab_size": f["vocab"],
                   "layout": f["layout"], "shards": f["shards"], "transformers_native_layout": native,
                   "cache_vs_full_rel": float(agree)},
                  open(os.path.join(d, "ref.json"), "w"), indent=1)
        top2 = np.sort(np.concatenate([prefill[-1:], decode]), axis=-1)[:, -2:]
        print(f"{name}: greedy {greedy}\n  cache-vs-full rel {agree:.2e}; min top-2 gap on greedy steps "
              f"{(top2[:, 1] - top2[:, 0]).min():.4f}; max|logit| {np.abs(prefill).max():.2f}")


if __name__ == "__main__":
    main()
