#include "transport/reorder.hpp"

#include "core/check.hpp"

namespace ferry::transport {

Message* ReorderBuffer::reserve(int source, Tag tag, std::uint64_t seq, std::size_t bytes) {
  Stream& stream = streams_[{source, tag}];
  FERRY_ENFORCE(seq >= stream.next, "message ", seq, " from rank ", source, " tag ", tag,
                " arrived after the stream moved past it");
  auto [it, inserted] = stream.slots.try_emplace(seq);
  FERRY_ENFORCE(inserted, "message ", seq, " from rank ", source, " tag ", tag, " arrived twice");
  Message& message = it->second.message;
  message.source = source;
  message.tag = tag;
  message.bytes = pool_->take(bytes);
  ++pending_;
  return &message;
}

void ReorderBuffer::complete(int source, Tag tag, std::uint64_t seq) {
  auto stream_it = streams_.find({source, tag});
  FERRY_ENFORCE(stream_it != streams_.end(), "completion for unknown stream of rank ", source, " tag ", tag);
  Stream& stream = stream_it->second;
  auto slot = stream.slots.find(seq);
  FERRY_ENFORCE(slot != stream.slots.end(), "completion for unreserved message ", seq, " from rank ", source);
  slot->second.complete = true;
  if (seq != stream.next) ++held_back_;
  while (!stream.slots.empty()) {
    auto head = stream.slots.begin();
    if (head->first != stream.next || !head->second.complete) break;
    ready_.push_back(std::move(head->second.message));
    stream.slots.erase(head);
    ++stream.next;
    --pending_;
  }
}

std::optional<Message> ReorderBuffer::pop() {
  if (ready_.empty()) return std::nullopt;
  Message message = std::move(ready_.front());
  ready_.pop_front();
  return message;
}

}  // namespace ferry::transport
