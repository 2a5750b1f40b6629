package salus

import (
	"math"
	"time"

	"salus.dev/salus/internal/capi"
)

// NoLane is the lane of a session still waiting for device memory
// (SALUS_NO_LANE).
const NoLane = math.MaxUint64

// SessionInfo describes one session of any client (salus_session_info).
type SessionInfo struct {
	ID                 uint64
	Name               string
	ClientPID          int32
	PersistentBytes    uint64 // P
	EphemeralBytes     uint64 // T
	Iterations         uint64 // completed
	Pending            uint32 // queued or running
	RunTime            time.Duration
	State              string // queued, waiting, ready, running, closing, closed
	Lane               uint64 // NoLane while queued for memory
	DeclaredIterations uint64
	Priority           int32
	Weight             float64
	QueueingTime       time.Duration // total time its iterations waited to start
	MeanIterationTime  time.Duration // 0 before the first iteration
	// Admitted and Completed are times on the daemon's monotonic clock:
	// when the session was admitted (0 while queued) and closed (0 while open).
	Admitted, Completed time.Duration
	Job                 uint32 // the tenant (e.g. Slurm job) it is charged to; 0 for none
}

// ListSessions lists the sessions of every client, recently closed ones
// included (salus_list_sessions).
func (c *Client) ListSessions() ([]SessionInfo, error) {
	var infos []SessionInfo
	err := c.use("ListSessions", func(p capi.Struct_SS_salus_client) (err error) {
		infos, err = listAll(capi.New_session_info_array, capi.Delete_session_info_array, sessionInfo,
			func(array capi.Salus_session_info, max int64, count []int64) int {
				return capi.Salus_list_sessions(p, array, max, count)
			})
		return err
	})
	return infos, err
}

func sessionInfo(array capi.Salus_session_info, i int) SessionInfo {
	c := capi.Session_info_array_getitem(array, i) // a copy to free
	defer capi.DeleteSalus_session_info(c)
	return SessionInfo{
		ID:                 c.GetSession_id(),
		Name:               c.GetName(),
		ClientPID:          int32(c.GetClient_pid()),
		PersistentBytes:    c.GetPersistent_bytes(),
		EphemeralBytes:     c.GetEphemeral_bytes(),
		Iterations:         c.GetIterations(),
		Pending:            uint32(c.GetPending()),
		RunTime:            nanoseconds(c.GetRun_ns()),
		State:              c.GetState(),
		Lane:               c.GetLane(),
		DeclaredIterations: c.GetDeclared_iterations(),
		Priority:           int32(c.GetPriority()),
		Weight:             c.GetWeight(),
		QueueingTime:       nanoseconds(c.GetQueueing_ns()),
		MeanIterationTime:  nanoseconds(c.GetMean_iteration_ns()),
		Admitted:           nanoseconds(c.GetAdmitted_ns()),
		Completed:          nanoseconds(c.GetCompleted_ns()),
		Job:                uint32(c.GetTenant()),
	}
}

// Status describes the daemon (salus_status).
type Status struct {
	Device         string // e.g. "cpu (2 cores)"
	Policy         string // the scheduling policy
	Admission      string // "safe" (sum P + max T) or "static" (sum P + T)
	PoolBytes      uint64 // the device memory pool
	FreeBytes      uint64 // pool memory outside every lane
	Lanes          uint32
	OpenSessions   uint32
	QueuedSessions uint32 // waiting for device memory
	// Job switches inside a lane, from the end of one session's iteration
	// kernels to the start of another's, over recent switches.
	Switches             uint64
	SwitchP50, SwitchP99 time.Duration
}

// Status returns the daemon's device, memory pool, lanes and policy
// (salus_get_status).
func (c *Client) Status() (Status, error) {
	var st Status
	err := c.use("Status", func(p capi.Struct_SS_salus_client) error {
		cs := capi.NewSalus_status()
		defer capi.DeleteSalus_status(cs)
		if err := check(func() int { return capi.Salus_get_status(p, cs) }); err != nil {
			return err
		}
		st = Status{
			Device:         cs.GetDevice(),
			Policy:         cs.GetPolicy(),
			Admission:      cs.GetAdmission(),
			PoolBytes:      cs.GetPool_bytes(),
			FreeBytes:      cs.GetFree_bytes(),
			Lanes:          uint32(cs.GetLanes()),
			OpenSessions:   uint32(cs.GetOpen_sessions()),
			QueuedSessions: uint32(cs.GetQueued_sessions()),
			Switches:       cs.GetSwitches(),
			SwitchP50:      nanoseconds(cs.GetSwitch_p50_ns()),
			SwitchP99:      nanoseconds(cs.GetSwitch_p99_ns()),
		}
		return nil
	})
	return st, err
}

// nanoseconds converts a daemon figure in ns, saturating.
func nanoseconds(ns uint64) time.Duration {
	if ns > math.MaxInt64 {
		return math.MaxInt64
	}
	return time.Duration(ns)
}
