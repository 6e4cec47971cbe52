#!/usr/bin/env python3
"""A checkpoint with the real Qwen3.6-35B-A3B widths but few layers, and transformers' greedy
tokens for a fixed prompt: the full-width check of the CUDA backend (tests: CudaFullWidth).

Run on the GPU machine (torch, transformers >= 5.17); the checkpoint is ~15 GB at 8 layers, so
generate it where it is used and never commit it:
    python3 tools/reference/make_fullwidth.py OUT_DIR [--layers 8] [--steps 16] [--prompt-len 40]
    A3B_FULLWIDTH_DIR=OUT_DIR ./a3b_tests --gtest_filter='CudaFullWidth*'
Writes OUT_DIR/: config.json and bf16 *.safetensors (save_pretrained), ref.json (prompt_ids,
greedy_ids, vocab_size), ref_logits.npy float32 [steps, vocab], row i = the logits that chose
greedy_ids[i]. Weights are random (same spread as make_fixtures.py), generated on the GPU; the
reference runs Qwen3_5MoeForConditionalGeneration in bf16 on the GPU, one full forward (no cache)
per greedy step.
"""
import argparse, json, math, os, time
import numpy as np
import torch
from transformers import Qwen3_5MoeConfig, Qwen3_5MoeForConditionalGeneration


def make_config(layers):
    text = dict(
        vocab_size=248320, hidden_size=2048, num_hidden_layers=layers,
        num_attention_heads=16, num_key_value_heads=2, head_dim=256,
        linear_num_key_heads=16, linear_num_value_heads=32, linear_key_head_dim=128, linear_value_head_dim=128,
        linear_conv_kernel_dim=4, num_experts=256, num_experts_per_tok=8, moe_intermediate_size=512,
        shared_expert_intermediate_size=512, max_position_embeddings=262144, rms_norm_eps=1e-6,
        tie_word_embeddings=False,
        layer_types=["full_attention" if (i + 1) % 4 == 0 else "linear_attention" for i in range(layers)],
        rope_parameters=dict(rope_type="default", rope_theta=10000000.0, partial_rotary_factor=0.25,
                             mrope_section=[11, 11, 10], mrope_interleaved=True),
        eos_token_id=[248046, 248044], pad_token_id=248044, bos_token_id=248044,
    )
    vision = dict(depth=1, hidden_size=32, intermediate_size=64, num_heads=2, patch_size=16,
                  out_hidden_size=2048, num_position_embeddings=64)
    return Qwen3_5MoeConfig(text_config=text, vision_config=vision, tie_word_embeddings=False)


@torch.no_grad()
def randomize(model, seed):
    """As make_fixtures.py: unit-variance projections, visible norm offsets, real decays."""
    g = torch.Generator(device="cuda").manual_seed(seed)
    for name, p in model.named_parameters():
        def normal(std): return torch.randn(p.shape, generator=g, device="cuda", dtype=torch.float32) * std
        def uniform(lo, hi): return torch.rand(p.shape, generator=g, device="cuda", dtype=torch.float32) * (hi - lo) + lo
        if not name.startswith("model.language_model") and not name.startswith("lm_head"):
            v = normal(0.02)
        elif name.endswith("A_log"):
            v = torch.log(uniform(0.1, 2.0))
        elif name.endswith("dt_bias"):
            v = normal(0.5)
        elif name.endswith("linear_attn.norm.weight"):
            v = uniform(0.5, 1.5)
        elif "norm" in name:
            v = normal(0.2)
        elif name.endswith("conv1d.weight"):
            v = normal(0.5)
        elif name.startswith("lm_head"):
            v = normal(3.0 / math.sqrt(p.shape[-1]))
        elif name.endswith("embed_tokens.weight"):
            v = normal(1.0)
        elif name.endswith("mlp.gate.weight"):
            v = normal(2.0 / math.sqrt(p.shape[-1]))
        else:
            v = normal(1.0 / math.sqrt(p.shape[-1]))
        p.copy_(v.to(p.dtype))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--layers", type=int, default=8)
    ap.add_argument("--steps", type=int, default=16)
    ap.add_argument("--prompt-len", type=int, default=40)
    ap.add_argument("--seed", type=int, default=5)
    a = ap.parse_args()
    t0 = time.time()
    torch.manual_seed(a.seed)
    torch.set_default_dtype(torch.bfloat16)
    with torch.device("cuda"):
        model = Qwen3_5MoeForConditionalGeneration(make_config(a.layers))
    randomize(model, a.seed)
    model.eval()
    os.makedirs(a.out, exist_ok=True)
    model.save_pretrained(a.out, max_shard_size="4GB")
    print(f"saved {sum(p.numel() for p in model.parameters()) / 1e9:.2f} B parameters in {time.time() - t0:.0f} s", flush=True)
    # The reference is the saved checkpoint as a user loads it (buffers such as RoPE frequencies
    # are built in float32 by from_pretrained, not cast from the bf16 construction above).
    del model
    torch.cuda.empty_cache()
    torch.set_default_dtype(torch.float32)
    model = Qwen3_5MoeForConditionalGeneration.from_pretrained(a.out, dtype=torch.bfloat16, device_map="cuda")
    model.eval()

    rng = np.random.default_rng(a.seed)
    prompt = [int(x) for x in rng.integers(0, 248000, a.prompt_len)]
    ids, greedy, rows = list(prompt), [], []
    with torch.no_grad():
        for _ in range(a.steps):
            out = model(input_ids=torch.tensor([ids], device="cuda"), use_cache=False)
            row = out.logits[0, -1].float().cpu().numpy()
            rows.append(row)
            greedy.append(int(row.argmax()))
            ids.append(greedy[-1])
    logits = np.stack(rows).astype(np.float32)
    np.save(os.path.join(a.out, "ref_logits.npy"), logits)
    json.dump({"prompt_ids": prompt, "greedy_ids": greedy, "vocab_size": 248320, "layers": a.layers},
              open(os.path.join(a.out, "ref.json"), "w"), indent=1)
    top2 = np.sort(logits, axis=-1)[:, -2:]
    print(f"greedy {greedy}\nmin top-2 gap {(top2[:, 1] - top2[:, 0]).min():.4f}, max|logit| "
          f"{np.abs(logits).max():.2f}; total {time.time() - t0:.0f} s", flush=True)


if __name__ == "__main__":
    main()
