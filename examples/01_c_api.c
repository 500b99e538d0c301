/* A training loop in C over Ferry's C API (include/ferry/ferry.h, docs/capi.md).
 *
 *   mpirun -n 5 01_c_api job.toml [--stop-after N] [--save CKPT] [--resume CKPT]
 *
 * Service ranks serve; consumers take the batches of each of their pipelines in turn and fold every batch
 * into a running digest (the IDs and all bytes, in delivery order: the "model" this loop trains). At the
 * end consumer 0 prints per pipeline
 *   samples NAME N        samples delivered to all consumers
 *   digest NAME HEX       the same digest `ferry run` and `ferry local` print for the same config
 * --stop-after N stops after N rounds (a preempted job); --save CKPT then writes the checkpoint: Ferry's
 * state (from consumer 0, read back by every rank) in CKPT and each consumer's digests in CKPT.<consumer>.
 * --resume CKPT continues from there, so the digest of a stopped and resumed job equals the uninterrupted
 * one. */
#include <inttypes.h>
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "ferry/ferry.h"

enum { kMaxPipelines = 16 };

/* Ferry's digest (src/apps/digest.cpp): SplitMix64 combines integers (src/core/hash.hpp), XXH3 hashes each
 * field's bytes (xxHash, Debian: libxxhash-dev). */
static uint64_t mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}
static uint64_t fp_add_u64(uint64_t state, uint64_t value) {
  return mix64(state ^ (mix64(value) + 0x632be59bd9b4e019ULL + (state << 6) + (state >> 2)));
}
static const uint64_t kFpStart = 0xcbf29ce484222325ULL;

/* The "training step": folds the batch into the digest. A real loop would hand b->fields[f].data to its
 * framework here (a tensor over the pointer, no copy) and all-reduce gradients on the consumers' comm. */
static uint64_t train_step(uint64_t digest, const ferry_batch* b) {
  uint64_t fp = fp_add_u64(kFpStart, digest);
  for (size_t i = 0; i < b->size; ++i) fp = fp_add_u64(fp, b->ids[i]);
  for (int f = 0; f < b->nfields; ++f) fp = fp_add_u64(fp, XXH3_64bits(b->fields[f].data, b->fields[f].bytes));
  return mix64(fp);
}

static int check(int status, const char* call) {
  if (status != FERRY_OK && status != FERRY_END) {
    int rank = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    fprintf(stderr, "01_c_api: rank %d: %s: %s: %s\n", rank, call, ferry_status_name(status),
            ferry_last_error());
  }
  return status;
}

/* Reads a whole text file into a malloc'd string (NULL when it cannot). */
static char* read_text(const char* path) {
  FILE* f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  const long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char* text = malloc((size_t)n + 1);
  if (text && fread(text, 1, (size_t)n, f) != (size_t)n) {
    free(text);
    text = NULL;
  }
  if (text) text[n] = '\0';
  fclose(f);
  return text;
}

static int run(ferry_runtime* rt, long stop_after, const char* save, const char* resume) {
  int consumer = 0, index = 0, npipes = 0;
  if (check(ferry_is_consumer(rt, &consumer), "ferry_is_consumer")) return 1;
  if (!consumer) return check(ferry_serve(rt), "ferry_serve") == FERRY_OK ? 0 : 1;

  MPI_Comm comm;
  check(ferry_consumer_index(rt, &index), "ferry_consumer_index");
  check(ferry_consumer_comm(rt, &comm), "ferry_consumer_comm");
  check(ferry_pipeline_count(rt, &npipes), "ferry_pipeline_count");
  if (npipes > kMaxPipelines) npipes = kMaxPipelines;

  const char* names[kMaxPipelines];
  uint64_t digest[kMaxPipelines] = {0}, samples[kMaxPipelines] = {0};
  int active[kMaxPipelines];
  for (int p = 0; p < npipes; ++p) {
    check(ferry_pipeline_name(rt, p, &names[p]), "ferry_pipeline_name");
    active[p] = 1;
  }
  char path[4096];
  if (resume) { /* this consumer's digests so far */
    snprintf(path, sizeof path, "%s.%d", resume, index);
    FILE* f = fopen(path, "r");
    for (int p = 0; f && p < npipes; ++p)
      if (fscanf(f, "%" SCNx64 " %" SCNu64, &digest[p], &samples[p]) != 2) digest[p] = samples[p] = 0;
    if (f) fclose(f);
  }

  /* The training loop: one batch of each pipeline per round. */
  int left = npipes, status = FERRY_OK;
  for (long round = 0; left > 0 && (stop_after < 0 || round < stop_after); ++round) {
    for (int p = 0; p < npipes; ++p) {
      if (!active[p]) continue;
      const ferry_batch* batch = NULL;
      status = check(ferry_next_batch(rt, names[p], &batch), "ferry_next_batch");
      if (status == FERRY_END) {
        active[p] = 0;
        --left;
        continue;
      }
      if (status != FERRY_OK) return 1;
      digest[p] = train_step(digest[p], batch);
      samples[p] += batch->size;
    }
  }

  /* Figures, as `ferry run` prints them: per-consumer digests combined in consumer order. */
  int size = 1, rank = 0;
  MPI_Comm_size(comm, &size);
  MPI_Comm_rank(comm, &rank);
  uint64_t* all = malloc(sizeof(uint64_t) * (size_t)size);
  for (int p = 0; p < npipes; ++p) {
    uint64_t total = 0;
    MPI_Gather(&digest[p], 1, MPI_UINT64_T, all, 1, MPI_UINT64_T, 0, comm);
    MPI_Reduce(&samples[p], &total, 1, MPI_UINT64_T, MPI_SUM, 0, comm);
    if (rank != 0) continue;
    uint64_t fp = kFpStart;
    for (int r = 0; r < size; ++r) fp = fp_add_u64(fp, all[r]);
    printf("samples %s %" PRIu64 "\n", names[p], total);
    printf("digest %s %016" PRIx64 "\n", names[p], mix64(fp));
  }
  free(all);
  fflush(stdout);

  if (save) { /* the checkpoint: Ferry's position (one line per pipeline) and this consumer's digests */
    size_t need = 0;
    ferry_state(rt, NULL, NULL, 0, &need); /* FERRY_ERROR_INVALID_ARGUMENT: reports the size only */
    char* state = malloc(need);
    if (check(ferry_state(rt, NULL, state, need, NULL), "ferry_state")) return 1;
    FILE* f = NULL;
    if (index == 0 && (f = fopen(save, "w"))) {
      fprintf(f, "%s\n", state);
      fclose(f);
    }
    snprintf(path, sizeof path, "%s.%d", save, index);
    if ((f = fopen(path, "w"))) {
      for (int p = 0; p < npipes; ++p) fprintf(f, "%016" PRIx64 " %" PRIu64 "\n", digest[p], samples[p]);
      fclose(f);
    }
    if (index == 0) printf("saved %s\n", state);
    free(state);
  }
  return 0;
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s CONFIG.toml [--stop-after N] [--save CKPT] [--resume CKPT]\n", argv[0]);
    return 2;
  }
  long stop_after = -1;
  const char *save = NULL, *resume = NULL;
  for (int i = 2; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--stop-after") == 0)
      stop_after = atol(argv[i + 1]);
    else if (strcmp(argv[i], "--save") == 0)
      save = argv[i + 1];
    else if (strcmp(argv[i], "--resume") == 0)
      resume = argv[i + 1];
    else {
      fprintf(stderr, "01_c_api: unknown option %s\n", argv[i]);
      return 2;
    }
  }

  int provided = 0;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
  char* state = resume ? read_text(resume) : NULL; /* every rank reads it: service ranks need it too */
  if (resume && !state) fprintf(stderr, "01_c_api: cannot read %s; starting from the beginning\n", resume);

  ferry_runtime* rt = NULL;
  int rc = 1;
  if (check(ferry_init(MPI_COMM_WORLD, argv[1], state, &rt), "ferry_init") == FERRY_OK) {
    rc = run(rt, stop_after, save, resume);
    /* Collective on every rank, also after a failure: a failing rank has told the others already. */
    check(ferry_finalize(rt), "ferry_finalize");
  }
  free(state);
  MPI_Finalize();
  return rc;
}
