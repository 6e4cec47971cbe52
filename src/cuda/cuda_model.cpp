// CudaModel: device setup, sequences and their GPU state, splitting a batch into steps, the step
// metadata, CUDA graph capture and replay of decode steps, logits back to the host.
#include "cuda/cuda_model.h"

#include <algorithm>
#include <cstring>
#include <set>
#include <thread>

#include "core/error.h"
#include "cuda/engine.h"

namespace a3b {
namespace cuda {

// ---------------------------------------------------------------------------------------------
// Engine setup

Engine::Engine(const CudaOptions& o) : opt(o) {
  int count = 0;
  cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess || count == 0) {
    (void)cudaGetLastError();
    fail("CUDA backend: no CUDA GPU available (", e != cudaSuccess ? cudaGetErrorString(e) : "0 devices", ")");
  }
  if (opt.device < 0 || opt.device >= count) fail("CUDA backend: device ", opt.device, " does not exist (", count, " found)");
  A3B_CUDA(cudaSetDevice(opt.device));
  A3B_CUDA(cudaGetDeviceProperties(&prop, opt.device));
  if (prop.major != 9)
    fail("CUDA backend: built for Hopper (sm_90a) but ", prop.name, " is sm_", prop.major, prop.minor);
  A3B_CUDA(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
  A3B_CUBLAS(cublasCreate(&blas));
  A3B_CUBLAS(cublasSetStream(blas, stream));
  const size_t blas_bytes = size_t(32) << 20;  // fixed, so that captured graphs never allocate
  A3B_CUDA(cudaMalloc(&blas_workspace, blas_bytes));
  A3B_CUBLAS(cublasSetWorkspace(blas, blas_workspace, blas_bytes));
  // Sequence state comes from the stream-ordered pool; keep freed blocks for the next sequence.
  cudaMemPool_t pool;
  A3B_CUDA(cudaDeviceGetDefaultMemPool(&pool, opt.device));
  uint64_t keep = UINT64_MAX;
  A3B_CUDA(cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &keep));
}

Engine::~Engine() {
  clear_graphs();
  free_workspace();
  w.reset();
  if (blas) cublasDestroy(blas);
  if (blas_workspace) cudaFree(blas_workspace);
  if (stream) cudaStreamDestroy(stream);
}

void Engine::keep_dense_copies() {
  if (!opt.dense_bf16_copies || !w->quantized) return;
  size_t free = 0, total = 0;
  A3B_CUDA(cudaMemGetInfo(&free, &total));
  dense_copies = w->add_dense_bf16_copies(total / 4) > 0;
}

Ctx Engine::ctx() const {
  Ctx c;
  c.stream = stream;
  c.blas = blas;
  c.pdl = opt.pdl && !profiling;
  c.prof = profiling ? const_cast<Profiler*>(&prof) : nullptr;
  c.sms = prop.multiProcessorCount;
  return c;
}

void Engine::clear_graphs() {
  for (auto& [key, exec] : graphs) cudaGraphExecDestroy(exec);
  graphs.clear();
  graph_seen.clear();
}

// ---------------------------------------------------------------------------------------------
// Sequences

CudaSequence::~CudaSequence() {
  if (gdn) cudaFreeAsync(gdn, eng->stream);
  if (kv) cudaFreeAsync(kv, eng->stream);
}

static void* pool_alloc(cudaStream_t s, size_t bytes, const char* what) {
  void* p = nullptr;
  cudaError_t e = cudaMallocAsync(&p, bytes, s);
  if (e != cudaSuccess) {
    (void)cudaGetLastError();
    size_t free = 0, total = 0;
    cudaMemGetInfo(&free, &total);
    fail("CUDA: cannot allocate ", what, " (", bytes >> 20, " MiB; ", free >> 20, " of ", total >> 20,
         " MiB free): ", cudaGetErrorString(e));
  }
  return p;
}

std::unique_ptr<SequenceState> Engine::new_sequence(std::shared_ptr<Engine> self) {
  const Dims& d = w->dims;
  const int n_gdn = w->config.n_deltanet_layers();
  auto s = std::make_unique<CudaSequence>();
  s->eng = std::move(self);
  const size_t floats = size_t(n_gdn) * (size_t(d.nv) * d.dk * d.dv + size_t(d.conv_k) * d.conv_dim);
  if (floats > 0) {
    s->gdn = static_cast<float*>(pool_alloc(stream, floats * sizeof(float), "DeltaNet state"));
    s->gdn_bytes = floats * sizeof(float);
    A3B_CUDA(cudaMemsetAsync(s->gdn, 0, s->gdn_bytes, stream));
  }
  return s;
}

std::unique_ptr<SequenceState> Engine::clone_sequence(std::shared_ptr<Engine> self, const CudaSequence& src) {
  auto s = std::make_unique<CudaSequence>();
  s->eng = std::move(self);
  s->n_past = src.n_past;
  if (src.gdn) {
    s->gdn = static_cast<float*>(pool_alloc(stream, src.gdn_bytes, "DeltaNet state"));
    s->gdn_bytes = src.gdn_bytes;
    A3B_CUDA(cudaMemcpyAsync(s->gdn, src.gdn, src.gdn_bytes, cudaMemcpyDeviceToDevice, stream));
  }
  if (src.kv) {
    s->kv = static_cast<bf16*>(pool_alloc(stream, src.kv_bytes, "KV cache"));
    s->kv_cap = src.kv_cap;
    s->kv_bytes = src.kv_bytes;
    A3B_CUDA(cudaMemcpyAsync(s->kv, src.kv, src.kv_bytes, cudaMemcpyDeviceToDevice, stream));
  }
  return s;
}

// Capacity in powers of two from 256 positions; existing keys and values move along.
void Engine::grow_kv(CudaSequence& s, int needed) {
  const int n_attn = w->config.n_attention_layers();
  if (n_attn == 0 || needed <= s.kv_cap) return;
  int cap = 256;
  while (cap < needed) cap *= 2;
  const Dims& d = w->dims;
  const size_t row = size_t(d.D) * sizeof(bf16), blocks = size_t(n_attn) * 2 * d.nkv;
  auto* kv = static_cast<bf16*>(pool_alloc(stream, blocks * cap * row, "KV cache"));
  if (s.kv) {
    if (s.n_past > 0)
      A3B_CUDA(cudaMemcpy2DAsync(kv, cap * row, s.kv, s.kv_cap * row, size_t(s.n_past) * row, blocks,
                                 cudaMemcpyDeviceToDevice, stream));
    A3B_CUDA(cudaFreeAsync(s.kv, stream));
  }
  s.kv = kv;
  s.kv_cap = cap;
  s.kv_bytes = blocks * cap * row;
}

// ---------------------------------------------------------------------------------------------
// Workspace

void Engine::free_workspace() {
  for (void* p : ws.device_allocs) cudaFree(p);
  if (ws.logits_host) cudaFreeHost(ws.logits_host);
  if (ws.meta_host) cudaFreeHost(ws.meta_host);
  ws = Workspace();
}

void Engine::ensure_workspace(int tokens) {
  if (tokens <= ws.tokens) return;
  A3B_CUDA(cudaStreamSynchronize(stream));
  clear_graphs();
  free_workspace();
  int cap = 16;
  while (cap < tokens) cap *= 2;
  const Dims& d = w->dims;
  const size_t T = size_t(cap), H = size_t(d.H), k = size_t(d.k);
  const size_t proj = size_t(std::max(w->in_proj_rows(), w->qkv_rows())), wide = size_t(std::max(d.value_dim, d.nq * d.D));
  auto dev = [&](size_t bytes, const char* what) {
    void* p = nullptr;
    cudaError_t e = cudaMalloc(&p, std::max<size_t>(bytes, 16));
    if (e != cudaSuccess) {
      (void)cudaGetLastError();
      free_workspace();
      fail("CUDA: cannot allocate the workspace for steps of ", cap, " tokens (", what, ", ", bytes >> 20,
           " MiB): ", cudaGetErrorString(e));
    }
    ws.device_allocs.push_back(p);
    return p;
  };
  ws.h = static_cast<float*>(dev(T * H * 4, "residual"));
  ws.x = static_cast<float*>(dev(T * H * 4, "normed rows"));
  ws.xb = static_cast<bf16*>(dev(T * H * 2, "normed rows bf16"));
  ws.proj = static_cast<float*>(dev(T * proj * 4, "projections"));
  ws.u = static_cast<float*>(dev(T * size_t(d.conv_dim) * 4, "conv output"));
  ws.o = static_cast<float*>(dev(T * wide * 4, "mixer output"));
  ws.ob = static_cast<bf16*>(dev(T * wide * 2, "mixer output bf16"));
  ws.q = static_cast<float*>(dev(T * size_t(d.nq) * d.D * 4, "queries"));
  const size_t parts = size_t(kMaxShortTokens) * d.nq * 64;
  ws.part_o = static_cast<float*>(dev(parts * d.D * 4, "attention partials"));
  ws.part_ml = static_cast<float*>(dev(parts * 2 * 4, "attention partials"));
  ws.router = static_cast<float*>(dev(T * size_t(d.E + 1) * 4, "router logits"));
  ws.topk_id = static_cast<int*>(dev(T * k * 4, "routing"));
  ws.topk_w = static_cast<float*>(dev(T * k * 4, "routing"));
  ws.act = static_cast<float*>(dev(size_t(kGemvMaxTokens) * (k + 1) * std::max(d.I, d.Is) * 4, "expert activations"));
  ws.counts = static_cast<int*>(dev(size_t(d.E) * 4, "routing"));
  ws.fill = static_cast<int*>(dev(size_t(d.E) * 4, "routing"));
  ws.counter = static_cast<int*>(dev(4, "routing"));
  A3B_CUDA(cudaMemset(ws.counter, 0, 4));
  ws.seg = static_cast<int*>(dev(size_t(d.E + 1) * 4, "routing"));
  ws.tiles = static_cast<int*>(dev(size_t(d.E + 1) * 4, "routing"));
  ws.perm_tok = static_cast<int*>(dev(T * k * 4, "routing"));
  ws.slot_of = static_cast<int*>(dev(T * k * 4, "routing"));
  ws.act_b = static_cast<bf16*>(dev(T * k * size_t(d.I) * 2, "expert activations"));
  ws.sh_act_b = static_cast<bf16*>(dev(T * size_t(std::max(d.Is, 1)) * 2, "shared expert activations"));
  ws.y_exp = static_cast<float*>(dev(T * k * H * 4, "expert outputs"));
  ws.y_sh = static_cast<float*>(dev(T * H * 4, "shared expert outputs"));
  if (cap >= kLongSeqTokens)
    ws.gdn_chunks = static_cast<float*>(
        dev(size_t(gdn_chunk_slots(cap)) * d.nv * kGdnChunkRecord * 4, "DeltaNet chunk records"));
  const size_t logit_rows = size_t(std::min(cap, kMaxLogitRows));
  ws.logits = static_cast<float*>(dev(logit_rows * d.V * 4, "logits"));
  A3B_CUDA(cudaMallocHost(&ws.logits_host, logit_rows * d.V * 4));
  if (w->quantized) {  // dequantized weights for the tensor-core products: an expert stack, or dense row chunks
    int64_t n = int64_t(32) << 20;
    for (const GpuLayer& L : w->layers)
      for (const GpuMatrix* m : {&L.gate_up, &L.down, &L.sh_gate_up, &L.sh_down})
        if (m->quantized()) n = std::max(n, m->rows * m->cols);
    ws.deq = static_cast<bf16*>(dev(size_t(n) * 2, "dequantized weights"));
    ws.deq_elems = n;
  }
  ws.meta_bytes = T * 8 * sizeof(int) + 64 + T * sizeof(SeqDesc) + 64;
  ws.meta_dev = dev(ws.meta_bytes, "step metadata");
  A3B_CUDA(cudaMallocHost(&ws.meta_host, ws.meta_bytes));
  ws.tokens = cap;
}

// ---------------------------------------------------------------------------------------------
// Steps

Plan Engine::plan_step(std::span<const Piece> pieces, const ForwardOptions& fo) {
  Plan p;
  p.S = int(pieces.size());
  p.decode = true;
  for (const Piece& pc : pieces) {
    p.T += pc.n;
    p.R += pc.logit_rows;
    p.decode = p.decode && pc.n == 1;
  }
  p.small = p.T <= kGemvMaxTokens;

  // Pack the arrays into the pinned buffer; StepMeta points at the same offsets on the device.
  auto* base = static_cast<uint8_t*>(ws.meta_host);
  size_t off = 0;
  auto take = [&](size_t count) {
    int* host = reinterpret_cast<int*>(base + off);
    const int* device = reinterpret_cast<const int*>(static_cast<uint8_t*>(ws.meta_dev) + off);
    off += count * sizeof(int);
    return std::make_pair(host, device);
  };
  auto [tok_id, d_tok_id] = take(size_t(p.T));
  auto [tok_pos, d_tok_pos] = take(size_t(p.T));
  auto [tok_seq, d_tok_seq] = take(size_t(p.T));
  auto [rows, d_rows] = take(size_t(p.R));
  auto [short_tok, d_short] = take(size_t(p.T));
  auto [long_seq, d_long] = take(size_t(p.S));
  auto [rec_seq, d_rec] = take(size_t(p.S));
  auto [chunk_seq, d_chunk] = take(size_t(p.S));
  auto [all_seg, d_all_seg] = take(2);
  auto [all_tiles, d_all_tiles] = take(2);
  off = (off + 15) / 16 * 16;
  auto* seqs = reinterpret_cast<SeqDesc*>(base + off);
  p.m.seqs = reinterpret_cast<const SeqDesc*>(static_cast<uint8_t*>(ws.meta_dev) + off);
  off += size_t(p.S) * sizeof(SeqDesc);
  p.meta_bytes = off;

  const Dims& d = w->dims;
  const size_t gdn_floats = size_t(w->config.n_deltanet_layers()) * d.nv * d.dk * d.dv;
  int row = 0, r = 0, max_ctx = 1, chunk_slots = 0;
  for (int s = 0; s < p.S; ++s) {
    const Piece& pc = pieces[size_t(s)];
    CudaSequence& sq = *pc.seq;
    seqs[s] = SeqDesc{sq.gdn, sq.gdn ? sq.gdn + gdn_floats : nullptr, sq.kv, sq.kv_cap, row, pc.n, int(sq.n_past), 0};
    const bool long_seq_ = pc.n >= kLongSeqTokens;
    const bool flash = long_seq_ && opt.flash_attention;
    for (int i = 0; i < pc.n; ++i) {
      tok_id[row + i] = pc.tokens[i];
      tok_pos[row + i] = int(sq.n_past) + i;
      tok_seq[row + i] = s;
      if (!flash) {
        short_tok[p.m.Ts++] = row + i;
        max_ctx = std::max(max_ctx, int(sq.n_past) + i + 1);
      }
    }
    for (int i = pc.n - pc.logit_rows; i < pc.n; ++i) rows[r++] = row + i;
    if (flash) {
      long_seq[p.m.Sl++] = s;
      p.m.max_long_n = std::max(p.m.max_long_n, pc.n);
    }
    // Chunked DeltaNet while the workspace has chunk records left, token by token otherwise.
    const int chunks = (pc.n + kGdnChunk - 1) / kGdnChunk;
    if (long_seq_ && fo.chunked_deltanet && chunk_slots + chunks <= gdn_chunk_slots(ws.tokens)) {
      seqs[s].chunk0 = chunk_slots;
      chunk_slots += chunks;
      p.m.max_chunks = std::max(p.m.max_chunks, chunks);
      chunk_seq[p.m.Sc++] = s;
    } else {
      rec_seq[p.m.Sr++] = s;
    }
    row += pc.n;
  }
  all_seg[0] = 0;
  all_seg[1] = p.T;
  all_tiles[0] = 0;
  all_tiles[1] = (p.T + kGemmTileM - 1) / kGemmTileM;
  attn_decode_split(max_ctx, &p.n_chunks, &p.chunk_len);

  p.m.tok_id = d_tok_id;
  p.m.tok_pos = d_tok_pos;
  p.m.tok_seq = d_tok_seq;
  p.m.logit_rows = d_rows;
  p.m.short_tok = d_short;
  p.m.long_seq = d_long;
  p.m.rec_seq = d_rec;
  p.m.chunk_seq = d_chunk;
  p.m.all_seg = d_all_seg;
  p.m.all_tiles = d_all_tiles;
  p.m.T = p.T;
  p.m.S = p.S;
  p.m.R = p.R;
  return p;
}

// The step's logits from the pinned buffer into the caller's: one thread copies ~10 GB/s, so a
// batch's rows (1 MB each for the real vocabulary) are split over a few threads.
void Engine::logits_to_caller(float* dst, size_t n) {
  constexpr size_t kPerThread = size_t(1) << 20;  // floats: 4 MB
  if (n <= kPerThread) {
    std::memcpy(dst, ws.logits_host, n * sizeof(float));
    return;
  }
  if (!copy_pool) {
    const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    copy_pool = std::make_unique<ThreadPool>(int(std::min(8u, cores)));
  }
  const float* src = ws.logits_host;
  copy_pool->for_range(int64_t(n), 1024, [&](int64_t b, int64_t e) {
    std::memcpy(dst + b, src + b, size_t(e - b) * sizeof(float));
  });
}

float* Engine::run_step(std::span<const Piece> pieces, float* logits, const ForwardOptions& fo) {
  int T = 0;
  for (const Piece& pc : pieces) T += pc.n;
  ensure_workspace(T);
  for (const Piece& pc : pieces) grow_kv(*pc.seq, int(pc.seq->n_past) + pc.n);
  const Plan p = plan_step(pieces, fo);
  const Ctx c = ctx();
  const int V = w->dims.V;
  auto check = [&](const char* what) {
    cudaError_t e = cudaStreamSynchronize(stream);
    if (e != cudaSuccess)
      fail("CUDA error in ", what, " of a step of ", p.T, " tokens in ", p.S, " sequences: ", cudaGetErrorString(e));
  };
  auto copy_out = [&](int n) {
    if (!logits || n == 0) return;
    A3B_CUDA(cudaMemcpyAsync(ws.logits_host, ws.logits, size_t(n) * V * sizeof(float), cudaMemcpyDeviceToHost, stream));
  };

  const bool graph = opt.graphs && !profiling && p.decode && p.R <= kMaxLogitRows;
  if (graph) {
    const GraphKey key{p.T, p.n_chunks, p.chunk_len, logits != nullptr};
    auto it = graphs.find(key);
    if (it == graphs.end() && graph_seen[key]++ > 0) {
      // Second time this shape comes: capture it (the first ran eagerly and did any lazy setup).
      cudaGraph_t g = nullptr;
      A3B_CUDA(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal));
      try {
        enqueue_layers(p, c);
        enqueue_lm_head(p, c, 0, p.R);
        copy_out(p.R);
      } catch (...) {
        cudaStreamEndCapture(stream, &g);
        if (g) cudaGraphDestroy(g);
        throw;
      }
      A3B_CUDA(cudaStreamEndCapture(stream, &g));
      cudaGraphExec_t exec = nullptr;
      cudaError_t e = cudaGraphInstantiate(&exec, g, 0);
      cudaGraphDestroy(g);
      if (e != cudaSuccess) fail("CUDA graph instantiation for a decode step of ", p.T, " tokens failed: ", cudaGetErrorString(e));
      it = graphs.emplace(key, exec).first;
    }
    if (it != graphs.end()) {
      A3B_CUDA(cudaGraphLaunch(it->second, stream));
      check("a decode graph");
      if (logits) logits_to_caller(logits, size_t(p.R) * V);
      for (const Piece& pc : pieces) pc.seq->n_past += pc.n;
      return logits ? logits + size_t(p.R) * V : nullptr;
    }
  }

  enqueue_layers(p, c);
  for (int r0 = 0; r0 < p.R; r0 += kMaxLogitRows) {
    const int n = std::min(kMaxLogitRows, p.R - r0);
    enqueue_lm_head(p, c, r0, n);
    copy_out(n);
    check("the forward");
    if (logits) logits_to_caller(logits + size_t(r0) * V, size_t(n) * V);
  }
  if (p.R == 0) check("the forward");
  if (profiling) prof.collect();
  for (const Piece& pc : pieces) pc.seq->n_past += pc.n;
  return logits ? logits + size_t(p.R) * V : nullptr;
}

static_assert(CudaOptions{}.quant_decode_step == kGemvMaxTokens, "quantized decode steps use the GEMV path");

void Engine::forward(std::span<const BatchItem> batch, float* logits, const ForwardOptions& fo) {
  const int64_t V = w->dims.V;
  std::set<const SequenceState*> seen;
  for (const BatchItem& item : batch) {
    auto* seq = dynamic_cast<CudaSequence*>(item.seq);
    if (!seq || seq->eng.get() != this) fail("forward: sequence state does not belong to this CUDA model");
    if (item.tokens.empty()) continue;
    if (!seen.insert(seq).second) fail("forward: a sequence appears twice in one batch");
    for (int32_t tok : item.tokens)
      if (tok < 0 || tok >= V) fail("token id ", tok, " is outside the vocabulary (0..", V - 1, ")");
  }
  // Cut the batch into steps of at most max_step_tokens tokens, items in order; a quantized
  // model's small decode batch into steps of quant_decode_step sequences (see CudaOptions).
  bool decode_only = true;
  for (const BatchItem& item : batch) decode_only = decode_only && item.tokens.size() <= 1;
  const int split_max = dense_copies ? opt.quant_decode_split_with_copies : opt.quant_decode_split;
  const bool split = w->quantized && decode_only && opt.quant_decode_step > 0 && int(batch.size()) <= split_max;
  const int step_tokens = split ? std::min(opt.max_step_tokens, opt.quant_decode_step) : opt.max_step_tokens;
  std::vector<Piece> step;
  int room = step_tokens;
  float* out = logits;
  for (const BatchItem& item : batch) {
    if (item.tokens.empty()) continue;
    auto* seq = static_cast<CudaSequence*>(item.seq);
    const int n = int(item.tokens.size());
    for (int off = 0; off < n;) {
      const int take = std::min(n - off, room);
      const bool last = off + take == n;
      step.push_back(Piece{seq, item.tokens.data() + off, take, item.all_logits ? take : (last ? 1 : 0)});
      off += take;
      room -= take;
      if (room == 0) {
        out = run_step(step, out, fo);
        step.clear();
        room = step_tokens;
      }
    }
  }
  if (!step.empty()) run_step(step, out, fo);
}

}  // namespace cuda

// ---------------------------------------------------------------------------------------------
// Public API

CudaModel::CudaModel(const ModelWeights& weights, CudaOptions options) : e_(std::make_shared<cuda::Engine>(options)) {
  e_->w = std::make_unique<cuda::GpuWeights>(weights);
  e_->keep_dense_copies();
}

CudaModel::CudaModel(const ModelConfig& config, uint64_t seed, CudaOptions options, const std::string& mix)
    : e_(std::make_shared<cuda::Engine>(options)) {
  validate_config(config, "synthetic model");
  if (mix != "bf16" && mix != "ud-q4_k_m") fail("unknown synthetic weight mix '", mix, "' (bf16 or ud-q4_k_m)");
  e_->w = std::make_unique<cuda::GpuWeights>(config, seed,
                                             mix == "bf16" ? cuda::SyntheticMix::BF16 : cuda::SyntheticMix::UD_Q4_K_M);
  e_->keep_dense_copies();
}

CudaModel::~CudaModel() = default;

const ModelConfig& CudaModel::config() const { return e_->w->config; }
std::string CudaModel::backend() const { return std::string("cuda (") + e_->prop.name + ")"; }
std::unique_ptr<SequenceState> CudaModel::new_sequence() { return e_->new_sequence(e_); }
std::unique_ptr<SequenceState> CudaModel::clone_sequence(const SequenceState& s) {
  auto* cuda = dynamic_cast<const cuda::CudaSequence*>(&s);
  if (!cuda) fail("clone_sequence: sequence state does not belong to the CUDA backend");
  return e_->clone_sequence(e_, *cuda);
}
void CudaModel::forward(std::span<const BatchItem> batch, float* logits) { e_->forward(batch, logits, options); }

void CudaModel::set_profiling(bool on) { e_->profiling = on; }
std::map<std::string, double> CudaModel::profile_ms() const { return e_->prof.totals_ms(); }
std::map<std::string, long> CudaModel::profile_counts() const { return e_->prof.counts(); }
void CudaModel::reset_profile() { e_->prof.reset(); }
size_t CudaModel::weight_bytes() const { return e_->w->bytes; }

namespace {
double matrix_bytes(const cuda::GpuMatrix& m) { return double(m.rows) * double(m.row_bytes); }
}  // namespace

double CudaModel::dense_bytes() const {
  const cuda::GpuWeights& w = *e_->w;
  double b = matrix_bytes(w.lm_head);
  for (const cuda::GpuLayer& L : w.layers) {
    for (const cuda::GpuMatrix& m : L.in_proj) b += matrix_bytes(m);
    for (const cuda::GpuMatrix& m : L.qkv) b += matrix_bytes(m);
    b += matrix_bytes(L.out_proj) + matrix_bytes(L.o_proj) + matrix_bytes(L.router) + matrix_bytes(L.sh_gate_up) +
         matrix_bytes(L.sh_down);
  }
  return b;
}

double CudaModel::expert_bytes() const {
  const cuda::GpuWeights& w = *e_->w;
  double b = 0;
  for (const cuda::GpuLayer& L : w.layers) b += matrix_bytes(L.gate_up) + matrix_bytes(L.down);
  return b / double(w.layers.size()) / double(w.dims.E);
}
std::string CudaModel::device_name() const { return e_->prop.name; }

int cuda_device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    (void)cudaGetLastError();
    return 0;
  }
  return n;
}

CudaMemory cuda_memory(int device) {
  CudaMemory m;
  A3B_CUDA(cudaSetDevice(device));
  A3B_CUDA(cudaMemGetInfo(&m.free, &m.total));
  return m;
}

}  // namespace a3b
