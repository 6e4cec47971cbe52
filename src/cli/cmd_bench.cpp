// a3b bench: prefill and decode throughput of a model folder or of full-size synthetic weights,
// against the memory-bandwidth roofline (decode) and the matmul rate (prefill) measured here.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <sstream>

#include "cli/commands.h"
#include "core/error.h"
#include "formats/model_file.h"
#include "model/backend.h"
#include "model/presets.h"
#ifdef A3B_HAVE_CUDA
#include "cuda/cuda_model.h"
#endif

namespace a3b {
namespace {

struct BenchArgs {
  std::string model, synthetic, backend, batches = "1", weights = "bf16";
  int prompt_len = 512, ctx = 1024, steps = 32, layers = 0, churn = 0, threads = 0, quant_decode_split = -1;
  bool profile = false, no_graphs = false, no_pdl = false;
  uint64_t seed = 1;
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::vector<int> parse_list(const std::string& s) {
  std::vector<int> v;
  std::stringstream in(s);
  std::string part;
  while (std::getline(in, part, ',')) {
    try {
      v.push_back(std::stoi(part));
    } catch (...) {
      fail("--batch: '", part, "' is not a number");
    }
    if (v.back() < 1) fail("--batch: sizes must be at least 1");
  }
  return v;
}

// Bytes a decode step must move: every dense weight once, the experts the batch selects once
// (expected count for uniform routing), each sequence's DeltaNet state read and written, its KV
// cache read. Weights in bf16.
struct Traffic {
  double dense = 0, per_expert = 0, state = 0, kv_per_pos = 0;
  int moe_layers = 0;
  double experts(int batch, const ModelConfig& c) const {
    const double E = c.n_experts, k = c.n_experts_used;
    return E * (1.0 - std::pow(1.0 - k / E, batch));
  }
  double step(int batch, int ctx, const ModelConfig& c) const {
    return dense + moe_layers * experts(batch, c) * per_expert + batch * (state + kv_per_pos * ctx);
  }
};

Traffic traffic(const ModelConfig& c) {
  Traffic t;
  const double H = double(c.hidden), bf = 2;
  for (LayerKind k : c.layers) {
    if (k == LayerKind::DeltaNet)
      t.dense += bf * H * (double(c.conv_dim()) + 2.0 * double(c.lin_value_dim()) + 2.0 * c.lin_v_heads);
    else
      t.dense += bf * H * (2.0 * c.n_heads * c.head_dim + 2.0 * c.n_kv_heads * c.head_dim + double(c.n_heads) * c.head_dim);
    t.dense += bf * H * (c.n_experts + 1 + 3.0 * double(c.shared_inter));
  }
  t.dense += bf * H * double(c.vocab_size);  // lm_head
  t.per_expert = bf * 3.0 * H * double(c.expert_inter);
  t.moe_layers = c.n_layers;
  t.state = double(c.n_deltanet_layers()) *
            (2.0 * 4 * c.lin_v_heads * c.lin_k_dim * c.lin_v_dim + 4.0 * (c.conv_kernel + 1) * double(c.conv_dim()));
  t.kv_per_pos = double(c.n_attention_layers()) * 2 * c.n_kv_heads * c.head_dim * bf;
  return t;
}

// Multiply-adds of a prefill of T tokens after `past` (×2 FLOP): projections with the k experts
// each token uses, attention scores and values; DeltaNet's recurrence is not counted.
double prefill_flops(const ModelConfig& c, double T, double past) {
  const double H = double(c.hidden);
  double per_token = 0;
  for (LayerKind k : c.layers) {
    if (k == LayerKind::DeltaNet) per_token += H * (double(c.conv_dim()) + 2.0 * double(c.lin_value_dim()) + 2.0 * c.lin_v_heads);
    else per_token += H * (3.0 * c.n_heads * c.head_dim + 2.0 * c.n_kv_heads * c.head_dim);
    per_token += H * (c.n_experts + 1 + 3.0 * double(c.shared_inter) + 3.0 * c.n_experts_used * double(c.expert_inter));
  }
  const double attention = c.n_attention_layers() * 2.0 * c.n_heads * c.head_dim * T * (past + T / 2);
  return 2.0 * (per_token * T + attention);
}

std::vector<int32_t> random_tokens(std::mt19937& rng, int n, int64_t vocab) {
  std::uniform_int_distribution<int32_t> tok(0, int32_t(vocab - 1));
  std::vector<int32_t> v(static_cast<size_t>(n));
  for (auto& t : v) t = tok(rng);
  return v;
}

void print_profile(const std::map<std::string, double>& ms, const std::map<std::string, long>& counts, const char* what) {
  double total = 0;
  std::map<std::string, double> by_class;
  for (auto& [name, t] : ms) {
    total += t;
    by_class[name.substr(0, name.find('/'))] += t;
  }
  std::printf("profile (%s): %.3f ms of kernels (eager launches, events around each)\n", what, total);
  std::vector<std::pair<double, std::string>> rows;
  for (auto& [name, t] : ms) rows.push_back({t, name});
  std::sort(rows.rbegin(), rows.rend());
  for (auto& [t, name] : rows)
    std::printf("  %-28s %9.3f ms %5.1f%%  %6ld launches\n", name.c_str(), t, 100 * t / total, counts.at(name));
  std::printf("  by class:");
  for (auto& [name, t] : by_class) std::printf(" %s %.1f%%", name.c_str(), 100 * t / total);
  std::printf("\n");
}

void run_bench(const BenchArgs& a) {
  const Backend backend = a.backend.empty() ? default_backend() : parse_backend(a.backend);
  std::unique_ptr<Model> model;
  std::string what;
  if (!a.synthetic.empty()) {
    if (backend != Backend::Cuda) fail("--synthetic needs the CUDA backend (weights are generated on the GPU)");
#ifdef A3B_HAVE_CUDA
    ModelConfig c = preset_config(a.synthetic);
    if (a.layers) c = with_layers(c, a.layers);
    CudaOptions o;
    o.graphs = !a.no_graphs;
    o.pdl = !a.no_pdl;
    if (a.quant_decode_split >= 0) o.quant_decode_split = o.quant_decode_split_with_copies = a.quant_decode_split;
    auto t0 = std::chrono::steady_clock::now();
    model = std::make_unique<CudaModel>(c, a.seed, o, a.weights);
    what = cat("synthetic ", a.synthetic, " (", c.n_layers, " layers, random ", a.weights, " weights generated in ",
               int(seconds_since(t0) * 1000), " ms)");
#else
    fail("--synthetic: this a3b was built without CUDA");
#endif
  } else {
    const std::string path = a.model.empty() ? default_model_path() : a.model;
    if (a.layers) fail("--layers only applies to --synthetic models");
    ModelWeights weights = load_model_weights(path);
    model = make_model(std::move(weights), backend, a.threads);
    what = path;
  }
  const ModelConfig& c = model->config();
  Traffic tr = traffic(c);
  double bandwidth = 0, matmul = 0;
#ifdef A3B_HAVE_CUDA
  auto* cm = dynamic_cast<CudaModel*>(model.get());
  if (cm) {  // the weights as stored on the GPU (quantized ones are smaller than the bf16 estimate)
    tr.dense = cm->dense_bytes();
    tr.per_expert = cm->expert_bytes();
    bandwidth = cuda_copy_bandwidth(0, size_t(2) << 30);
    matmul = cuda_matmul_flops(0, 8192);
    std::printf("device: %s; copy bandwidth %.2f TB/s (device-to-device, read + write); bf16 matmul %.0f TFLOP/s "
                "(cuBLAS 8192^3)\n",
                cm->device_name().c_str(), bandwidth / 1e12, matmul / 1e12);
    std::printf("model: %s; %.2f GB of weights on the GPU; backend %s\n", what.c_str(), double(cm->weight_bytes()) / 1e9,
                model->backend().c_str());
  }
#endif
  if (!bandwidth) std::printf("model: %s; backend %s (no roofline: CPU)\n", what.c_str(), model->backend().c_str());
  std::mt19937 rng(unsigned(a.seed));
  const int64_t V = c.vocab_size;
  // Only the CUDA backend accepts null logits (computed, not copied); the CPU needs somewhere to write.
  const bool gpu = model->backend().rfind("cuda", 0) == 0;
  std::vector<float> sink;
  auto discard = [&](size_t rows) {
    if (gpu) return static_cast<float*>(nullptr);
    sink.resize(rows * size_t(V));
    return sink.data();
  };

  if (a.churn > 0) {
#ifdef A3B_HAVE_CUDA
    auto once = [&] {
      auto seq = model->new_sequence();
      auto prompt = random_tokens(rng, 16, V);
      BatchItem item{seq.get(), prompt, false};
      model->forward({&item, 1}, discard(1));
      for (int i = 0; i < 4; ++i) {
        BatchItem step{seq.get(), std::span(&prompt[size_t(i)], 1), false};
        model->forward({&step, 1}, discard(1));
      }
    };
    for (int i = 0; i < 5; ++i) once();
    const CudaMemory before = cuda_memory(0);
    for (int i = 0; i < a.churn; ++i) once();
    const CudaMemory after = cuda_memory(0);
    const double grown = (double(before.free) - double(after.free)) / (1 << 20);
    std::printf("churn: %d requests (16-token prefill + 4 decode steps each); GPU free memory %.1f -> %.1f MiB "
                "(growth %.1f MiB)\n",
                a.churn, double(before.free) / (1 << 20), double(after.free) / (1 << 20), grown);
    if (grown > 0) fail("GPU memory grew by ", grown, " MiB over ", a.churn, " requests");
#else
    fail("--churn needs the CUDA backend");
#endif
  }

  if (a.prompt_len > 0) {
    auto prompt = random_tokens(rng, a.prompt_len, V);
    std::vector<float> logits(static_cast<size_t>(V));
    double best = 1e30;
    for (int rep = 0; rep < 3; ++rep) {  // the first run warms up
      auto seq = model->new_sequence();
      BatchItem item{seq.get(), prompt, false};
      auto t0 = std::chrono::steady_clock::now();
      model->forward({&item, 1}, logits.data());
      const double s = seconds_since(t0);
      if (rep > 0) best = std::min(best, s);
      if (!std::isfinite(logits[0])) fail("prefill produced non-finite logits");
    }
    const double flops = prefill_flops(c, a.prompt_len, 0);
    std::printf("prefill %6d tokens: %8.1f ms  %9.0f tok/s  %6.1f TFLOP counted -> %5.0f TFLOP/s", a.prompt_len, best * 1e3,
                a.prompt_len / best, flops / 1e12, flops / best / 1e12);
    if (matmul) std::printf(" (%.0f%% of matmul peak)", 100 * flops / best / matmul);
    std::printf("\n");
  }

  for (int batch : parse_list(a.batches)) {
    std::vector<std::unique_ptr<SequenceState>> seqs;
    std::vector<std::vector<int32_t>> next(static_cast<size_t>(batch));
    std::vector<BatchItem> items;
    std::vector<std::vector<int32_t>> contexts;
    for (int b = 0; b < batch; ++b) {
      seqs.push_back(model->new_sequence());
      contexts.push_back(random_tokens(rng, std::max(1, a.ctx), V));
    }
    for (int b = 0; b < batch; ++b) items.push_back(BatchItem{seqs[size_t(b)].get(), contexts[size_t(b)], false});
    model->forward(items, discard(size_t(batch)));  // the context, all sequences in one batch
    std::vector<float> logits(size_t(batch) * V);
    std::vector<int32_t> toks = random_tokens(rng, batch, V);
    auto step = [&](float* out) {
      for (int b = 0; b < batch; ++b) items[size_t(b)] = BatchItem{seqs[size_t(b)].get(), std::span(&toks[size_t(b)], 1), false};
      model->forward(items, out);
    };
    for (int i = 0; i < 3; ++i) step(logits.data());  // eager, capture, replay
    auto time_steps = [&](float* out) {
      auto t0 = std::chrono::steady_clock::now();
      for (int i = 0; i < a.steps; ++i) step(out);
      return seconds_since(t0) / a.steps;
    };
    const double per_step = time_steps(logits.data());
    double per_step_dev = 0;
    if (gpu) {
      for (int i = 0; i < 2; ++i) step(nullptr);
      per_step_dev = time_steps(nullptr);
    }
    if (!std::isfinite(logits[0])) fail("decode produced non-finite logits");
    const int ctx = a.ctx + 3 + a.steps;
    const double bytes = tr.step(batch, ctx, c);
    std::printf("decode batch %3d ctx %5d: %7.3f ms/step %8.0f tok/s", batch, a.ctx, per_step * 1e3, batch / per_step);
    if (bandwidth) {
      const double floor = bytes / bandwidth;
      std::printf("  %.2f GB/step  %.2f TB/s  %3.0f%% of roofline (%.0f tok/s)", bytes / 1e9, bytes / per_step / 1e12,
                  100 * floor / per_step, batch / floor);
    }
    if (gpu) {
      std::printf("  | logits kept on GPU: %7.3f ms/step %8.0f tok/s", per_step_dev * 1e3, batch / per_step_dev);
      if (bandwidth) std::printf(" %3.0f%%", 100 * bytes / bandwidth / per_step_dev);
    }
    std::printf("\n");
  }

#ifdef A3B_HAVE_CUDA
  if (a.profile && cm) {
    cm->set_profiling(true);
    if (a.prompt_len > 0) {
      cm->reset_profile();
      auto seq = model->new_sequence();
      auto prompt = random_tokens(rng, a.prompt_len, V);
      BatchItem item{seq.get(), prompt, false};
      model->forward({&item, 1}, nullptr);
      print_profile(cm->profile_ms(), cm->profile_counts(), cat("prefill of ", a.prompt_len, " tokens").c_str());
    }
    for (int batch : parse_list(a.batches)) {
      std::vector<std::unique_ptr<SequenceState>> seqs;
      std::vector<std::vector<int32_t>> contexts;
      std::vector<BatchItem> items;
      for (int b = 0; b < batch; ++b) {
        seqs.push_back(model->new_sequence());
        contexts.push_back(random_tokens(rng, std::max(1, a.ctx), V));
        items.push_back(BatchItem{seqs.back().get(), contexts.back(), false});
      }
      cm->set_profiling(false);
      model->forward(items, nullptr);
      cm->set_profiling(true);
      cm->reset_profile();
      std::vector<int32_t> toks = random_tokens(rng, batch, V);
      for (int i = 0; i < 8; ++i) {
        for (int b = 0; b < batch; ++b) items[size_t(b)] = BatchItem{seqs[size_t(b)].get(), std::span(&toks[size_t(b)], 1), false};
        model->forward(items, nullptr);
      }
      print_profile(cm->profile_ms(), cm->profile_counts(), cat("8 decode steps, batch ", batch, ", ctx ", a.ctx).c_str());
    }
    cm->set_profiling(false);
  }
#endif
}

}  // namespace

void add_bench_command(CLI::App& app) {
  auto args = std::make_shared<BenchArgs>();
  CLI::App* cmd = app.add_subcommand("bench", "Prefill and decode throughput against the hardware roofline");
  cmd->add_option("-m,--model", args->model, "Model folder (default: the model the repository ships)");
  cmd->add_option("--synthetic", args->synthetic, "Random weights of a known shape, generated on the GPU: qwen3.6-35b-a3b");
  cmd->add_option("--layers", args->layers, "With --synthetic: only the first N layers");
  cmd->add_option("--weights", args->weights, "With --synthetic: bf16, or ud-q4_k_m (the quant types of Unsloth's UD-Q4_K_M)")
      ->check(CLI::IsMember({"bf16", "ud-q4_k_m"}))
      ->capture_default_str();
  cmd->add_option("--backend", args->backend, "cpu or cuda (default: cuda when a GPU is present)")
      ->check(CLI::IsMember({"cpu", "cuda"}));
  cmd->add_option("--batch", args->batches, "Decode batch sizes, comma-separated, e.g. 1,8,64")->capture_default_str();
  cmd->add_option("--prompt-len", args->prompt_len, "Prefill length (0: no prefill run)")->capture_default_str();
  cmd->add_option("--ctx", args->ctx, "Context of each sequence before the timed decode steps")->capture_default_str();
  cmd->add_option("--steps", args->steps, "Timed decode steps")->capture_default_str();
  cmd->add_flag("--profile", args->profile, "Per-kernel GPU time shares (eager launches with events)");
  cmd->add_option("--churn", args->churn, "Create and destroy N short requests; fail if GPU memory grows");
  cmd->add_flag("--no-graphs", args->no_graphs, "Launch decode steps eagerly instead of replaying CUDA graphs");
  cmd->add_flag("--no-pdl", args->no_pdl, "No programmatic dependent launch between kernels");
  cmd->add_option("--quant-decode-split", args->quant_decode_split,
                  "With --synthetic quantized weights: decode batches of at most N sequences run as 4-sequence steps "
                  "(tuning; default 5 with the dense matrices' bf16 copies, 7 without)");
  cmd->add_option("--seed", args->seed, "Seed of the synthetic weights and random tokens")->capture_default_str();
  cmd->add_option("-t,--threads", args->threads, "CPU threads for --backend cpu (default: all)");
  cmd->callback([args] { run_bench(*args); });
}

}  // namespace a3b
