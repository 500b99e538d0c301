// Failures a caller can make, caught before anything is issued, with messages that name the culprit.
#include "ferry/error.hpp"
#include "harness.hpp"

namespace ferry::transport::testing {
namespace {

constexpr Tag kErrorsKeyTag = 51;

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(TransportRegistry, UnknownBackendThrowsNamingItAndTheKnownOnes) {
  try {
    make_fabric("carrier-pigeon", MPI_COMM_WORLD);
    FAIL() << "make_fabric accepted an unknown backend";
  } catch (const ConfigError& e) {
    EXPECT_TRUE(contains(e.what(), "'carrier-pigeon'")) << e.what();
    EXPECT_TRUE(contains(e.what(), "mpi, ucx")) << e.what();
  }
  const auto names = known_backends();
  EXPECT_EQ(names, (std::vector<std::string>{"mpi", "ucx"}));
}

TEST_P(FabricTest, GetOutsideRegionThrowsNamingSizeAndOffset) {
  const int me = fabric_->rank();
  const int ranks = fabric_->size();
  std::vector<std::byte> memory(4096);
  fill_pattern(memory, me, -1, 0);
  Region region = fabric_->register_memory(memory.data(), memory.size());
  fabric_->send((me + 1) % ranks, kErrorsKeyTag, region.key());
  const auto keys = receive(*fabric_, 1);
  ASSERT_EQ(keys.size(), 1u);
  const RemoteRegion remote = fabric_->attach(keys[0].bytes);
  const int owner = (me + ranks - 1) % ranks;
  ASSERT_EQ(remote.owner, owner);

  std::vector<std::byte> buffer(200);
  try {
    fabric_->get(remote, 4000, buffer.data(), 200);
    ADD_FAILURE() << "a get past the end of the region was accepted";
  } catch (const TransportError& e) {
    EXPECT_EQ(e.status(), kInvalidArgument);
    EXPECT_TRUE(contains(e.what(), "offset 4000")) << e.what();
    EXPECT_TRUE(contains(e.what(), "size 4096")) << e.what();
    EXPECT_TRUE(contains(e.what(), "200 bytes")) << e.what();
  }
  EXPECT_THROW(fabric_->get(remote, 4097, buffer.data(), 0), TransportError);
  EXPECT_THROW(fabric_->get(remote, SIZE_MAX, buffer.data(), 2), TransportError)
      << "offset + bytes overflows";
  fabric_->get(remote, 4096, buffer.data(), 0).wait();  // empty, at the very end: allowed
  fabric_->get(remote, 3896, buffer.data(), 200).wait();
  EXPECT_EQ(first_mismatch(buffer, owner, -1, 0, 3896), buffer.size());
  fabric_->barrier();
}

TEST_P(FabricTest, BadPeerTagAndKeyThrow) {
  const std::byte one[] = {std::byte{1}};
  EXPECT_THROW(fabric_->send(fabric_->size(), 1, one), TransportError);
  EXPECT_THROW(fabric_->send(-1, 1, one), TransportError);
  EXPECT_THROW(fabric_->send(0, kMaxTag + 1, one), TransportError);
  EXPECT_THROW(fabric_->attach(one), TransportError);
}

TEST_P(FabricTest, UseAfterCloseThrows) {
  fabric_->close();
  const std::byte one[] = {std::byte{1}};
  EXPECT_THROW(fabric_->send(0, 1, one), TransportError);
  EXPECT_THROW(fabric_->poll(), TransportError);
  fabric_->close();  // idempotent
}

}  // namespace
}  // namespace ferry::transport::testing
