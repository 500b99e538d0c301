// Ferry's configuration: one TOML file, every key also a CLI flag. Reference: docs/config.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "ferry/dataset.hpp"
#include "ferry/transform.hpp"

namespace ferry {

// Largest batch_size a config may ask for; the control messages refuse batches larger than this.
inline constexpr std::size_t kMaxBatchSize = std::size_t{1} << 20;
// runtime.directory_shards at most.
inline constexpr std::uint64_t kMaxDirectoryShards = 1024;

// The transform chain of one field in one stage ("image" -> cast | normalize).
struct FieldChain {
  std::string field;
  std::vector<OpSpec> ops;
};

// What a pipeline does with a sample its chains cannot take (a corrupt, truncated or empty JPEG or PNG):
// fail the job (one line naming file, dataset and sample), or skip it: dropped from its batch (the batch is
// one shorter), counted, warned about once per rank (docs/transforms.md, "Bad samples").
enum class BadSamples { fail, skip };

// One training pipeline: a dataset read in a seeded order, prepared (cacheable) and augmented (random).
struct PipelineConfig {
  std::string name = "default";
  int cache_id = 0;        // pipelines with equal cache IDs share one cache's capacity
  std::uint64_t seed = 0;  // permutation and augmentation seed
  int epochs = 1;
  std::size_t batch_size = 32;  // samples per batch per consumer
  bool drop_last = true;        // true: equal shares, last partial batch dropped; false: pad shares, keep it
  bool shuffle = true;          // false: identity order (still split per consumer)
  BadSamples bad_samples = BadSamples::fail;
  DatasetSpec dataset;
  std::vector<FieldChain> prepare;  // deterministic, cached
  std::vector<FieldChain> augment;  // random per (seed, epoch, sample ID)
  std::vector<int> consumers;       // consumer group: indices into the job's consumers; empty = all
  // Resume position: the first batch delivered is batch start_batch of epoch start_epoch (apply_state()).
  std::uint64_t start_epoch = 0;
  std::uint64_t start_batch = 0;
  // The fingerprint (16 hex digits) of the dataset the resume state was saved for; empty: not checked.
  std::string start_dataset;
};

// How the multi-rank system is laid out and run (ferry::Runtime). Reference: docs/runtime.md.
struct RuntimeConfig {
  std::string transport = "ucx";  // "ucx" or "mpi"
  int randomizers = 1;
  // Randomizers per cache ID: each holds the directory of one key range of the cache ID's samples and
  // describes that range's positions of every batch (docs/scaling.md, "The directory sharded by key range").
  int directory_shards = 1;
  int cache_servers = 1;           // total, when cache_servers_per_node is 0
  int cache_servers_per_node = 0;  // > 0: this many on every node (MPI_COMM_TYPE_SHARED), overrides the total
  int transformers = 1;            // total, when transformers_per_node is 0
  int transformers_per_node = 0;   // > 0: this many on every node, overrides the total
  int transform_workers = 1;       // CPU worker threads per transformation rank (prepare stage)
  // Bytes of miss lists a transformation rank's reader thread holds read and not yet sent (docs/runtime.md,
  // "Read-ahead"); 0: reads on the progress thread, one list at a time.
  std::uint64_t read_ahead_bytes = std::uint64_t{64} << 20;
  // Registered memory a transformation rank prepares large entries into, for consumers and cache servers
  // to read with one-sided gets (docs/runtime.md, "Copies"); 0: every entry travels in messages.
  std::uint64_t send_pool_bytes = std::uint64_t{64} << 20;
  // Bytes of handled message payloads and completed sends' copies every rank keeps for reuse by the next
  // messages it receives or sends, so that moving the same sizes again faults in no fresh pages
  // (docs/runtime.md, "Message buffers"); 0: every payload freed once handled, every copy once sent.
  std::uint64_t message_buffer_bytes = std::uint64_t{64} << 20;
  // Fewest prepared bytes a miss list carries when a batch's misses are split over transformers: a batch
  // goes to min(T, its bytes / this) of them (at least one), so small samples are read in one HDF5 call per
  // field rather than a call per transformer (docs/runtime.md); 0: always split over every transformer.
  std::uint64_t miss_list_bytes = std::uint64_t{1} << 20;
  std::string accelerator = "auto";  // "auto": use a visible CUDA device for prepare jobs; "none": CPU only
  bool device_batches = false;       // consumers get fixed fields in device memory (BatchField::device_data)
  std::uint64_t cache_bytes = std::uint64_t{256} << 20;  // slab bytes per cache server
  // The backlog of cache inserts a randomizer's share may have: in flight (admitted, not acked by their
  // cache server) beyond the admissions of its outstanding batches. At or over it, it describes no further
  // batch (docs/cache.md, "Inserts in flight"), so the inserts on the way stay under this plus the
  // outstanding batches' admissions however far the cache servers fall behind; 0: no bound.
  std::uint64_t inserts_in_flight_bytes = std::uint64_t{256} << 20;
  std::string cache_policy = "static";  // static, lru, clairvoyant
  int prefetch = 4;                     // batches in flight per consumer and pipeline
  std::string stats_file;               // JSON lines, appended by every rank; empty: none
  // A rank that sends no heartbeat for this long is lost and the job ends (docs/errors.md); 0: no watch.
  int peer_timeout_s = 60;
  // The set-up's collectives before the heartbeats start must complete this long after a rank enters them,
  // or the job ends naming the step (docs/errors.md); 0: no deadline.
  int setup_timeout_s = 600;
};

// Monitoring windows, the placement policy and role rebalancing (docs/heterogeneous.md). `[monitor]` keys.
struct MonitorConfig {
  int window_batches = 20;          // a rank's window closes after this many batches ...
  int window_ms = 1000;             // ... or this many milliseconds, whichever first (0: that bound off)
  int history = 32;                 // windows the coordinator keeps
  std::string policy = "adaptive";  // placement policy: adaptive, static
  double low_water = 0.25;          // a pipeline starves below this mean prefetch-queue occupancy
  double high_water = 0.9;          // its queues are full when their minimum stays at or above this
  double util_threshold = 0.5;      // the accelerator is idle below this utilization
  double util_busy = 0.85;          // ... and busy at or above this one
  int hysteresis = 2;               // windows in a row a rule must hold before the share moves
  double step = 0.25;               // accelerator share moved per move
  double max_share = 1.0;           // most the adaptive policy gives the accelerator
  double static_share = 0.0;        // the static policy's accelerator share
  double augment_share = 0.1;  // consumers starve on their augment stage when it would take this share of
                               // their time on their CPUs
  // The augment stage's movable head (its leading deterministic ops: decode_jpeg, resize ...) runs on the
  // transformation ranks for a share of the batches (docs/heterogeneous.md, "The movable head").
  double head_idle = 0.5;          // the adaptive policy moves heads away while transformers are busy below
  double head_busy = 0.85;         // ... and back once one is busy at or above this
  double static_head_share = 0.0;  // the static policy's share of batches whose head runs on transformers
  // Role rebalancing: service ranks change between transformer and cache server at rebalance points, and a
  // randomizer may become a transformer (R3).
  bool rebalance = false;
  int rebalance_windows = 0;     // 0: at epoch boundaries; K > 0: also every K coordinator windows
  double role_idle = 0.3;        // transformers (R1), and two randomizers together (R3), below this are idle
  double role_busy = 0.7;        // transformers at or above it are saturated (R2: a server becomes one)
  double role_wait = 0.1;        // consumers starve when waiting at least this fraction of their time
  double role_min_hits = 0.1;    // a cache server serving under this share of samples may stop serving
  bool role_randomizers = true;  // R3: an idle randomizer may hand its pipelines to the coordinator's
  // Who decides the moves: "adaptive" (the rules above, from measured windows) or "scripted" (role_script:
  // the operator's steps, e.g. "epoch 1: rank 3 -> cache_server; epoch 2 batch 4: retire randomizer 1").
  std::string role_policy = "adaptive";
  std::string role_script;
};

struct Config {
  std::string log_level = "info";
  RuntimeConfig runtime;
  MonitorConfig monitor;
  std::vector<PipelineConfig> pipelines;
};

// Reads and validates a TOML config file. Throws ConfigError naming the file, line and key.
Config load_config(const std::string& path);
// Same for TOML text; `source` names it in messages.
Config parse_config(const std::string& toml_text, const std::string& source);
// Checks every key's value and the relations between them. Throws ConfigError naming the key.
void validate(const Config& config);
// Sets the resume position of the pipeline a Loader::state() string names. Throws ConfigError when the
// config has no such pipeline, its seed differs, or the text is not a Ferry state.
void apply_state(Config& config, const std::string& state);

// The effective config as TOML (what --print-config prints); parse_config(to_toml(c)) gives c back.
std::string to_toml(const Config& config);

}  // namespace ferry
