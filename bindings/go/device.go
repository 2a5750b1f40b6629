package salus

import "salus.dev/salus/internal/capi"

// DeviceInfo describes the device the daemon runs sessions on
// (salus_device_info).
type DeviceInfo struct {
	Type       string // "cpu" or "cuda"
	Name       string // the CPU model or the GPU's name
	Index      int32  // CUDA device ordinal; -1 for the CPU
	TotalBytes uint64 // the device's memory
	FreeBytes  uint64 // free now, as the system or driver says (outside the pool)
	PoolBytes  uint64 // the pool salusd claimed at start
}

// DeviceInfo returns the daemon's device (salus_get_device_info).
func (c *Client) DeviceInfo() (DeviceInfo, error) {
	var info DeviceInfo
	err := c.use("DeviceInfo", func(p capi.Struct_SS_salus_client) error {
		ci := capi.NewSalus_device_info()
		defer capi.DeleteSalus_device_info(ci)
		if err := check(func() int {
			return capi.Salus_device_info_init(ci, uint(capi.SALUS_DEVICE_INFO_VERSION))
		}); err != nil {
			return err
		}
		if err := check(func() int { return capi.Salus_get_device_info(p, ci) }); err != nil {
			return err
		}
		info = DeviceInfo{
			Type:       ci.GetDevice_type(),
			Name:       ci.GetName(),
			Index:      int32(ci.GetIndex()),
			TotalBytes: ci.GetTotal_bytes(),
			FreeBytes:  ci.GetFree_bytes(),
			PoolBytes:  ci.GetPool_bytes(),
		}
		return nil
	})
	return info, err
}

// LaneInfo describes one lane: a contiguous range of the daemon's memory pool
// and one stream of execution (salus_lane_info).
type LaneInfo struct {
	Lane            uint64 // its id, as in SessionInfo.Lane
	Base            uint64 // its offset in the pool
	Capacity        uint64
	PersistentBytes uint64 // sum of its sessions' P
	EphemeralBytes  uint64 // its ephemeral region: max(T), sum(T) under static admission
	Sessions        uint32 // sessions placed in it
	Stream          string // its execution stream, e.g. "thread 4242"
}

// ListLanes lists the daemon's lanes by offset in the pool
// (salus_list_lanes).
func (c *Client) ListLanes() ([]LaneInfo, error) {
	var lanes []LaneInfo
	err := c.use("ListLanes", func(p capi.Struct_SS_salus_client) (err error) {
		lanes, err = listAll(capi.New_lane_info_array, capi.Delete_lane_info_array, laneInfo,
			func(array capi.Salus_lane_info, max int64, count []int64) int {
				return capi.Salus_list_lanes(p, array, max, count)
			})
		return err
	})
	return lanes, err
}

func laneInfo(array capi.Salus_lane_info, i int) LaneInfo {
	c := capi.Lane_info_array_getitem(array, i) // a copy to free
	defer capi.DeleteSalus_lane_info(c)
	return LaneInfo{
		Lane:            c.GetLane(),
		Base:            c.GetBase(),
		Capacity:        c.GetCapacity(),
		PersistentBytes: c.GetPersistent_bytes(),
		EphemeralBytes:  c.GetEphemeral_bytes(),
		Sessions:        uint32(c.GetSessions()),
		Stream:          c.GetStream(),
	}
}
