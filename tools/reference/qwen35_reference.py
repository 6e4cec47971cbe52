# Copy of ../shared/reference/qwen35_reference.py (the team spec in numpy), kept here so it travels to the GPU machine.
# Executable reading of ../docs/architecture.md: the Qwen3.5/3.6-MoE text model in float64 numpy,
# recurrent form for every token (slow, for clarity). Checked against transformers 5.17: 1e-5-level
# relative logit error and identical greedy tokens on random 8-layer checkpoints.
# Usage (GPU machine, where torch and safetensors exist): python3 qwen35_reference.py MODEL_DIR
# MODEL_DIR needs ref.json {prompt_ids, greedy_ids} and ref_prefill_logits.npy to compare against.
import json, sys, glob, numpy as np, torch
from safetensors.torch import load_file
d = sys.argv[1]
cfg = json.load(open(d + '/config.json')); tc = cfg.get('text_config', cfg)
W = {}
for f in glob.glob(d + '/*.safetensors'):
    for k, v in load_file(f).items(): W[k] = v.double().numpy()
P = 'model.language_model.'
H = tc['hidden_size']; L = tc['num_hidden_layers']; eps = tc['rms_norm_eps']
nq, nkv, dh = tc['num_attention_heads'], tc['num_key_value_heads'], tc['head_dim']
rp = tc.get('rope_parameters', {}); theta = rp.get('rope_theta', tc.get('rope_theta')); rot = int(dh * rp.get('partial_rotary_factor', tc.get('partial_rotary_factor')))
nk, nv, dk, dv = tc['linear_num_key_heads'], tc['linear_num_value_heads'], tc['linear_key_head_dim'], tc['linear_value_head_dim']
K = tc['linear_conv_kernel_dim']; E, topk = tc['num_experts'], tc['num_experts_per_tok']
types = tc['layer_types']
def rms1p(x, w): return x / np.sqrt(np.mean(x * x, -1, keepdims=True) + eps) * (1 + w)
def silu(x): return x / (1 + np.exp(-x))
def sigmoid(x): return 1 / (1 + np.exp(-x))
def softplus(x): return np.where(x > 20, x, np.log1p(np.exp(np.minimum(x, 20))))
def experts(l):
    p = f'{P}layers.{l}.mlp.experts.'
    if p + 'gate_up_proj' in W:
        gu, dn = W[p + 'gate_up_proj'], W[p + 'down_proj']; I = gu.shape[1] // 2
        return [(gu[e, :I], gu[e, I:], dn[e]) for e in range(E)]
    return [(W[f'{p}{e}.gate_proj.weight'], W[f'{p}{e}.up_proj.weight'], W[f'{p}{e}.down_proj.weight']) for e in range(E)]
EX = [experts(l) for l in range(L)]
inv = theta ** (-np.arange(0, rot, 2) / rot)
def rope(x, pos):  # x [heads, dh]
    a, b = x[:, :rot // 2].copy(), x[:, rot // 2:rot].copy(); c, s = np.cos(pos * inv), np.sin(pos * inv)
    y = x.copy(); y[:, :rot // 2] = a * c - b * s; y[:, rot // 2:rot] = b * c + a * s; return y
def run(tokens):
    kv = {l: ([], []) for l in range(L)}
    conv = {l: np.zeros((K - 1, 2 * nk * dk + nv * dv)) for l in range(L)}
    S = {l: np.zeros((nv, dk, dv)) for l in range(L)}
    out = []
    for pos, t in enumerate(tokens):
        h = W[P + 'embed_tokens.weight'][t].copy()
        for l in range(L):
            p = f'{P}layers.{l}.'
            x = rms1p(h, W[p + 'input_layernorm.weight'])
            if types[l] == 'full_attention':
                a = p + 'self_attn.'
                qg = (W[a + 'q_proj.weight'] @ x).reshape(nq, 2 * dh); q, gate = qg[:, :dh], qg[:, dh:]
                k = (W[a + 'k_proj.weight'] @ x).reshape(nkv, dh); v = (W[a + 'v_proj.weight'] @ x).reshape(nkv, dh)
                q = rope(rms1p(q, W[a + 'q_norm.weight']), pos); k = rope(rms1p(k, W[a + 'k_norm.weight']), pos)
                kv[l][0].append(k); kv[l][1].append(v)
                Ks, Vs = np.stack(kv[l][0]), np.stack(kv[l][1])  # [T, nkv, dh]
                o = np.zeros((nq, dh))
                for hq in range(nq):
                    g = hq // (nq // nkv); sc = Ks[:, g] @ q[hq] / np.sqrt(dh); w = np.exp(sc - sc.max()); w /= w.sum()
                    o[hq] = w @ Vs[:, g]
                y = W[a + 'o_proj.weight'] @ (o.reshape(-1) * sigmoid(gate.reshape(-1)))
            else:
                a = p + 'linear_attn.'
                mixed = W[a + 'in_proj_qkv.weight'] @ x; z = (W[a + 'in_proj_z.weight'] @ x).reshape(nv, dv)
                b = W[a + 'in_proj_b.weight'] @ x; al = W[a + 'in_proj_a.weight'] @ x
                win = np.vstack([conv[l], mixed[None]]); conv[l] = win[1:]
                cw = W[a + 'conv1d.weight'][:, 0, :]  # [C, K]
                u = silu((win.T * cw).sum(1))
                q = u[:nk * dk].reshape(nk, dk); k = u[nk * dk:2 * nk * dk].reshape(nk, dk); v = u[2 * nk * dk:].reshape(nv, dv)
                q = q / np.sqrt((q * q).sum(-1, keepdims=True) + 1e-6) / np.sqrt(dk); k = k / np.sqrt((k * k).sum(-1, keepdims=True) + 1e-6)
                beta = sigmoid(b); g = -np.exp(W[a + 'A_log']) * softplus(al + W[a + 'dt_bias'])
                o = np.zeros((nv, dv))
                for hv in range(nv):
                    hk = hv // (nv // nk); St = S[l][hv] * np.exp(g[hv])
                    m = St.T @ k[hk]; delta = beta[hv] * (v[hv] - m); St = St + np.outer(k[hk], delta); S[l][hv] = St
                    o[hv] = St.T @ q[hk]
                nrm = o / np.sqrt(np.mean(o * o, -1, keepdims=True) + eps) * W[a + 'norm.weight'] * silu(z)
                y = W[a + 'out_proj.weight'] @ nrm.reshape(-1)
            h = h + y
            x = rms1p(h, W[p + 'post_attention_layernorm.weight'])
            m = p + 'mlp.'
            logits = W[m + 'gate.weight'] @ x; pr = np.exp(logits - logits.max()); pr /= pr.sum()
            idx = np.argsort(-pr)[:topk]; wts = pr[idx] / pr[idx].sum()
            yo = np.zeros(H)
            for wgt, e in zip(wts, idx):
                gp, up, dn = EX[l][e]; yo += wgt * (dn @ (silu(gp @ x) * (up @ x)))
            se = m + 'shared_expert.'
            yo += sigmoid(W[m + 'shared_expert_gate.weight'] @ x)[0] * (W[se + 'down_proj.weight'] @ (silu(W[se + 'gate_proj.weight'] @ x) * (W[se + 'up_proj.weight'] @ x)))
            h = h + yo
        out.append(W['lm_head.weight'] @ rms1p(h, W[P + 'norm.weight']))
    return np.stack(out)
ref = json.load(open(d + '/ref.json')); p, g = ref['prompt_ids'], ref['greedy_ids']
lg = run(p + g)
refl = np.load(d + '/ref_prefill_logits.npy')
rel = np.abs(lg[:len(p)] - refl).max() / np.abs(refl).max()
pred = lg[len(p) - 1:len(p) - 1 + len(g)].argmax(-1).tolist()
print(d, 'prefill rel err vs transformers:', '%.2e' % rel, '| greedy match:', sum(int(a == b) for a, b in zip(pred, g)), '/', len(g))
