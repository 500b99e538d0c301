/* Ferry's C API: the multi-rank system (ferry::Runtime) for C programs and for language bindings (Python's
 * ferry module is ctypes over these functions). Reference: docs/capi.md.
 *
 *   ferry_runtime* rt;
 *   if (ferry_init(MPI_COMM_WORLD, "train.toml", NULL, &rt) != FERRY_OK) { puts(ferry_last_error()); ... }
 *   int consumer = 0;
 *   ferry_is_consumer(rt, &consumer);
 *   if (!consumer) { ferry_serve(rt); ferry_finalize(rt); return; }   service ranks serve until the end
 *   const ferry_batch* b;
 *   while (ferry_next_batch(rt, "fmnist", &b) == FERRY_OK) train(b);  FERRY_END after the last epoch
 *   ferry_finalize(rt);                                               collective, on every rank
 *
 * Rules:
 * - Every function returns a ferry_status code (as int); FERRY_OK is 0. On failure ferry_last_error() gives
 *   the one-line message (per thread, until the next failing call on that thread). No C++ exception ever
 *   leaves a function of this header.
 * - Pointers inside a ferry_batch are owned by the runtime and stay valid until the next ferry_next_batch()
 *   call for the same pipeline, or ferry_finalize().
 * - ferry_init*, ferry_serve and ferry_finalize are collective over the runtime's communicator.
 * - Progress happens inside ferry_next_batch() on the calling thread: MPI_THREAD_FUNNELED is enough.
 *
 * C99; no C++ type appears here. Strings are NUL-terminated UTF-8. */
#ifndef FERRY_FERRY_H
#define FERRY_FERRY_H

#include <mpi.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Return codes. The first four name the kind of ferry::Error (docs/errors.md). */
typedef enum ferry_status {
  FERRY_OK = 0,
  FERRY_ERROR_CONFIG = 1,           /* a config key, file or state string is missing or bad */
  FERRY_ERROR_DATASET = 2,          /* an HDF5 file or dataset cannot be opened, read or understood */
  FERRY_ERROR_TRANSFORM = 3,        /* a transform chain cannot take its input or failed */
  FERRY_ERROR_TRANSPORT = 4,        /* MPI or UCX failed, or another rank of the job failed */
  FERRY_ERROR_INTERNAL = 5,         /* a bug in Ferry (an invariant failed), or out of memory */
  FERRY_ERROR_INVALID_ARGUMENT = 6, /* NULL handle or output, unknown pipeline, wrong role for the call */
  FERRY_END = 7,                    /* ferry_next_batch: no more batches (after the last epoch) */
  FERRY_ERROR_PEER_LOST = 8         /* another rank died or stopped answering (ferry::PeerLost); the job
                                       cannot go on: ferry_finalize() then ends it and does not return */
} ferry_status;

/* Element types; same order as ferry::DType. */
typedef enum ferry_dtype {
  FERRY_U8 = 0,
  FERRY_I8 = 1,
  FERRY_U16 = 2,
  FERRY_I16 = 3,
  FERRY_U32 = 4,
  FERRY_I32 = 5,
  FERRY_U64 = 6,
  FERRY_I64 = 7,
  FERRY_F32 = 8,
  FERRY_F64 = 9
} ferry_dtype;

/* Opaque: one ferry::Runtime and what the C layer keeps for it. */
typedef struct ferry_runtime ferry_runtime;

/* One field of a batch: a contiguous, sample-major array. */
typedef struct ferry_field {
  const char* name;
  const void* data;
  int dtype;               /* a ferry_dtype */
  int ndim;                /* dimensions including the batch dimension (>= 1) */
  const int64_t* shape;    /* ndim extents: [batch, per-sample dims...]; variable fields: [batch] */
  size_t bytes;            /* bytes at data */
  const uint64_t* offsets; /* variable-length fields only: batch+1 byte offsets into data; NULL otherwise */
  /* runtime.device_batches: the field in the consumer's GPU memory (the device current when ferry_init ran),
   * laid out as data would be, and data is NULL; fixed-size fields only. NULL otherwise. */
  const void* device_data;
} ferry_field;

typedef struct ferry_batch {
  const char* pipeline;
  uint64_t epoch;      /* epoch this batch belongs to, from 0 */
  uint64_t index;      /* batch number within the epoch for this consumer, from 0 */
  size_t size;         /* samples in the batch */
  const uint64_t* ids; /* size data IDs, in delivery order */
  int nfields;
  const ferry_field* fields; /* nfields entries, in dataset.fields order */
} ferry_batch;

/* Collective over comm (which Ferry dups). Reads the TOML config at config_path; state, when not NULL or
 * empty, is a string from ferry_state(): one "ferry-state 1 ..." line per pipeline, separated by newlines,
 * and the job resumes exactly there. On failure *out is NULL; the caller still owns MPI. */
int ferry_init(MPI_Comm comm, const char* config_path, const char* state, ferry_runtime** out);

/* For bindings that cannot pass an MPI_Comm: uses MPI_COMM_WORLD, and calls
 * MPI_Init_thread(MPI_THREAD_FUNNELED) first if MPI is not initialized yet; in that case ferry_finalize()
 * of this runtime also calls MPI_Finalize(). */
int ferry_init_world(const char* config_path, const char* state, ferry_runtime** out);

/* Collective: hands back unfinished pipelines, shuts the transport down, frees the handle (NULL: no-op),
 * and finalizes MPI when ferry_init_world() initialized it. Call it on every rank, also after errors. */
int ferry_finalize(ferry_runtime* rt);

/* *out = 1 on consumer (training) ranks, 0 on service ranks. */
int ferry_is_consumer(const ferry_runtime* rt, int* out);
/* This rank's role: "randomizer", "cache_server", "transformer" or "consumer" (static storage). */
int ferry_role(const ferry_runtime* rt, const char** out);
/* Service ranks: runs this rank's role until every consumer has finished. */
int ferry_serve(ferry_runtime* rt);

/* Consumers: index among the job's consumers (-1 on service ranks) and how many there are. */
int ferry_consumer_index(const ferry_runtime* rt, int* out);
int ferry_consumer_count(const ferry_runtime* rt, int* out);
/* Consumers: the consumers' communicator for the training code's own collectives (MPI_COMM_NULL on service
 * ranks). Owned by the runtime: do not free it; valid until ferry_finalize(). The _f variant gives its
 * Fortran handle (MPI_Comm_c2f), which bindings turn back into a communicator (mpi4py: MPI.Comm.f2py). */
int ferry_consumer_comm(const ferry_runtime* rt, MPI_Comm* out);
int ferry_consumer_comm_f(const ferry_runtime* rt, MPI_Fint* out);

/* Consumers: the pipelines this consumer belongs to, by position (0 .. count-1). Names live as long as rt. */
int ferry_pipeline_count(const ferry_runtime* rt, int* out);
int ferry_pipeline_name(const ferry_runtime* rt, int i, const char** out);
/* Consumers: batches per epoch for this consumer and samples in the dataset (pipeline NULL: the first). */
int ferry_batches_per_epoch(const ferry_runtime* rt, const char* pipeline, uint64_t* out);
int ferry_dataset_size(const ferry_runtime* rt, const char* pipeline, uint64_t* out);

/* Consumers: the next batch of a pipeline (NULL or "": the first pipeline of this consumer). Returns
 * FERRY_END with *out = NULL after the last epoch. *out is valid until the next call for this pipeline. */
int ferry_next_batch(ferry_runtime* rt, const char* pipeline, const ferry_batch** out);

/* Consumers: where this consumer stands, as text for ferry_init*'s state argument: for one pipeline, or
 * (pipeline NULL or "") one line per pipeline of this consumer, newline-separated. Writes at most size
 * bytes including the NUL into buffer (buffer may be NULL when size is 0); *required (may be NULL) gets
 * the size needed including the NUL. Returns FERRY_ERROR_INVALID_ARGUMENT, with *required set, when the
 * buffer is too small. */
int ferry_state(const ferry_runtime* rt, const char* pipeline, char* buffer, size_t size, size_t* required);

/* The message of the last failing call on this thread ("" if none). Valid until the next failing call. */
const char* ferry_last_error(void);
/* The name of a ferry_status code ("FERRY_ERROR_CONFIG"). */
const char* ferry_status_name(int status);
/* Ferry's version ("0.1.0"). */
const char* ferry_version_string(void);

#ifdef __cplusplus
}
#endif

#endif /* FERRY_FERRY_H */
