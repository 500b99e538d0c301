// The NCCL PeerLink (transform/peer_link.hpp): built only when CUDA and NCCL are found (FERRY_HAVE_NCCL).
#pragma once

#include <mpi.h>

#include <memory>

#include "transform/peer_link.hpp"

namespace ferry::nccl {

// Collective over `members`; see transform::open_peer_link.
std::unique_ptr<transform::PeerLink> open_link(MPI_Comm members, int ordinal,
                                               const transform::LinkPeers& peers);

}  // namespace ferry::nccl
