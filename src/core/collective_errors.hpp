// Agreeing on failure across the ranks of a communicator, so that every rank leaves together and the user
// reads each distinct error once, with the ranks that hit it ("ferry: error: ranks 0-2,5: ..."; a message
// every rank gave without them: "ferry: error: ...").
#pragma once

#include <mpi.h>

#include <string>
#include <vector>

namespace ferry {

// Collective over `comm`. `my_error` is empty when this rank succeeded. Returns true when every rank did.
// On failure, rank 0 of `comm` prints each distinct message once on stderr, prefixed by `program`.
bool agree_on_errors(MPI_Comm comm, const std::string& my_error, const char* program);

// Collective over `comm`: every rank gets the same text, empty when every rank succeeded, else each distinct
// message once with its ranks: "ranks 0-2: file.h5: no dataset /x; rank 5: ...".
std::string gather_errors(MPI_Comm comm, const std::string& my_error);

// "0-2,5" from a sorted rank list.
std::string rank_ranges(const std::vector<int>& ranks);

}  // namespace ferry
