// A reply body: a finished salus.wire.Message buffer, without the 4-byte
// length that is prepended when it is written.
#pragma once

#include <flatbuffers/flatbuffers.h>

namespace salus::server {

using Reply = flatbuffers::DetachedBuffer;

} // namespace salus::server
