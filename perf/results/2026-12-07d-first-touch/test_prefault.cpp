// prefault (src/core/prefault.hpp): every page of the range is mapped afterwards, a write prefault leaves the
// bytes as they were, and a read prefault never writes (over a read-only mapping a write would kill the
// test). Whether a page is mapped is read from /proc/self/pagemap (bit 63: present), which any process may
// read for itself.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/prefault.hpp"

namespace ferry {
namespace {

const std::size_t kPage = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));

// How many of the `pages` pages from `at` (page-aligned) are present in this process's page table.
std::size_t present_pages(const std::byte* at, std::size_t pages) {
  const int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  EXPECT_GE(fd, 0) << "open /proc/self/pagemap";
  if (fd < 0) return 0;
  std::vector<std::uint64_t> entries(pages);
  const auto offset =
      static_cast<off_t>(reinterpret_cast<std::uintptr_t>(at) / kPage * sizeof(std::uint64_t));
  const ssize_t got = pread(fd, entries.data(), pages * sizeof(std::uint64_t), offset);
  close(fd);
  EXPECT_EQ(got, static_cast<ssize_t>(pages * sizeof(std::uint64_t)));
  std::size_t present = 0;
  for (const std::uint64_t e : entries) present += (e >> 63) & 1;
  return present;
}

std::byte pattern(std::size_t i) {
  return static_cast<std::byte>((i * 31 + 7) & 0xff);
}

class Mapping {
 public:
  Mapping(std::size_t bytes, int prot, int flags, int fd) : bytes_(bytes) {
    void* at = mmap(nullptr, bytes, prot, flags, fd, 0);
    if (at != MAP_FAILED) data_ = static_cast<std::byte*>(at);
  }
  ~Mapping() {
    if (data_ != nullptr) munmap(data_, bytes_);
  }
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  std::byte* data() const { return data_; }

 private:
  std::byte* data_ = nullptr;
  std::size_t bytes_;
};

TEST(Prefault, WriteMapsEveryPageOfAFreshMapping) {
  const std::size_t pages = 37;
  Mapping m(pages * kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1);
  ASSERT_NE(m.data(), nullptr);
  EXPECT_EQ(present_pages(m.data(), pages), 0u);
  // A range that starts and ends inside a page: its first and last pages count too.
  prefault(m.data() + 100, pages * kPage - 200, Prefault::write);
  EXPECT_EQ(present_pages(m.data(), pages), pages);
}

TEST(Prefault, WriteLeavesEveryByteAsItWas) {
  const std::size_t pages = 19, bytes = pages * kPage;
  Mapping m(bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1);
  ASSERT_NE(m.data(), nullptr);
  for (std::size_t i = 0; i < bytes; ++i) m.data()[i] = pattern(i);
  prefault(m.data() + 3, bytes - 5, Prefault::write);
  for (std::size_t i = 0; i < bytes; ++i) ASSERT_EQ(m.data()[i], pattern(i)) << "byte " << i;
}

TEST(Prefault, ReadMapsAReadOnlyMappingOfAnotherWritersPagesWithoutWriting) {
  const std::size_t pages = 23, bytes = pages * kPage;
  const int fd = memfd_create("ferry_prefault_test", MFD_CLOEXEC);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(ftruncate(fd, static_cast<off_t>(bytes)), 0);
  {
    Mapping writer(bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd);
    ASSERT_NE(writer.data(), nullptr);
    for (std::size_t i = 0; i < bytes; ++i) writer.data()[i] = pattern(i);
  }
  Mapping reader(bytes, PROT_READ, MAP_SHARED, fd);
  close(fd);
  ASSERT_NE(reader.data(), nullptr);
  EXPECT_EQ(present_pages(reader.data(), pages), 0u);
  prefault(reader.data(), bytes, Prefault::read);  // a write here would end the test with SIGSEGV
  EXPECT_EQ(present_pages(reader.data(), pages), pages);
  for (std::size_t i = 0; i < bytes; ++i) ASSERT_EQ(reader.data()[i], pattern(i)) << "byte " << i;
}

TEST(Prefault, NothingToDoForAnEmptyRange) {
  EXPECT_GE(prefault(nullptr, 4096, Prefault::write), 0.0);
  Mapping m(kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1);
  ASSERT_NE(m.data(), nullptr);
  prefault(m.data(), 0, Prefault::write);
  EXPECT_EQ(present_pages(m.data(), 1), 0u);
}

}  // namespace
}  // namespace ferry
