// The vocabulary of the lanes module: ids, the admission mode, and what one
// admission or release tells the daemon to do to device memory.
//
// Every offset is absolute in the device memory pool, in bytes; every offset
// and size is a multiple of kLaneAlignment.
#pragma once

#include <cstdint>
#include <limits>
#include <vector>

namespace salus::lanes {

using SessionId = uint64_t;
using LaneId = uint32_t; // never reused; as sched::LaneId

constexpr uint64_t kLaneAlignment = 64;
constexpr LaneId kNoLane = std::numeric_limits<LaneId>::max();

enum class AdmissionMode : uint8_t {
    Safe,   // a lane holds its sessions while sum(P) + max(T) <= capacity
    Static, // for comparison: sum(P) + sum(T) <= capacity
};

const char *admission_mode_name(AdmissionMode mode);

// Copy `bytes` from `src` to `dst` with memmove semantics (the two may overlap).
struct Move {
    uint64_t src = 0;
    uint64_t dst = 0;
    uint64_t bytes = 0;
    SessionId session = 0; // whose persistent block this is
};

// A lane's range [base, base + capacity) and its ephemeral region, which lies
// at the top of the range: [ephemeral_offset, base + capacity).
struct LaneLayout {
    LaneId lane = kNoLane;
    uint64_t base = 0;
    uint64_t capacity = 0;
    uint64_t ephemeral_offset = 0;
    uint64_t ephemeral_bytes = 0;
};

// Where a session lives: its lane and its persistent block
// [persistent_offset, persistent_offset + persistent_bytes).
struct SessionPlacement {
    SessionId session = 0;
    LaneLayout lane;
    uint64_t persistent_offset = 0;
    uint64_t persistent_bytes = 0;
    uint64_t ephemeral_bytes = 0; // the session's own T (<= lane.ephemeral_bytes)
};

// What the daemon applies after one admit() or release(), in this order:
//  1. wait until every lane in `pause` is idle (between iterations) and hold
//     them there;
//  2. perform `moves` one after another (device-to-device, memmove each);
//  3. switch every lane in `lanes` to its new layout (create the new ones),
//     retire `closed` lanes, move `relocated` sessions to their new lane and
//     offset; then release the paused lanes;
//  4. initialise the persistent blocks of `admitted` sessions and let them run.
// Changes must be applied in the order the calls returned them: a later one
// may use memory an earlier one freed. Ephemeral regions hold nothing between
// iterations, so they are never copied: an iteration of a session with
// ephemeral bytes T uses [ephemeral_offset, ephemeral_offset + T) of its lane.
struct LayoutChange {
    std::vector<LaneId> pause;               // lanes that existed and are affected
    std::vector<Move> moves;                 // ordered; never clobber data still needed
    std::vector<LaneLayout> lanes;           // final layout of lanes created or changed
    std::vector<LaneId> closed;              // lanes emptied or merged into another
    std::vector<SessionPlacement> relocated; // earlier sessions whose block or lane changed
    std::vector<SessionPlacement> admitted;  // sessions admitted by this call, in order

    bool empty() const {
        return pause.empty() && moves.empty() && lanes.empty() && closed.empty() &&
               relocated.empty() && admitted.empty();
    }
};

} // namespace salus::lanes
