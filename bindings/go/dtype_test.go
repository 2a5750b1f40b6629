package salus

import (
	"testing"

	"salus.dev/salus/internal/capi"
)

// The DType constants are Go constants, so they are written out: they must
// stay the header's values.
func TestDTypesMatchHeader(t *testing.T) {
	for _, c := range []struct {
		got  DType
		want capi.Enum_SS_salus_dtype
	}{
		{Float32, capi.SALUS_DTYPE_F32},
		{Float16, capi.SALUS_DTYPE_F16},
		{BFloat16, capi.SALUS_DTYPE_BF16},
		{Int32, capi.SALUS_DTYPE_I32},
		{Int64, capi.SALUS_DTYPE_I64},
		{Bool, capi.SALUS_DTYPE_BOOL},
		{Float64, capi.SALUS_DTYPE_F64},
	} {
		if int(c.got) != int(c.want) {
			t.Errorf("%v is %d, salus.h says %d", c.got, int(c.got), int(c.want))
		}
	}
}

// Every libsalus code has a sentinel, distinct from the others.
func TestSentinelsCoverEveryCode(t *testing.T) {
	sentinels := []*Error{ErrInvalid, ErrNoMemory, ErrConnect, ErrProtocol, ErrVersion, ErrGraph,
		ErrNoSession, ErrShape, ErrTooBig, ErrExec, ErrNotSupported, ErrResource, ErrCanceled, ErrInternal, ErrShutdown, ErrPermission}
	seen := map[Code]bool{}
	for _, s := range sentinels {
		if s.Code >= 0 || seen[s.Code] {
			t.Errorf("sentinel %v has code %d: not negative or twice", s, s.Code)
		}
		seen[s.Code] = true
	}
	// Every code libsalus knows: from -1 down to the first it calls unknown.
	for code := -1; capi.Salus_strerror(code) != "unknown error"; code-- {
		if !seen[Code(code)] {
			t.Errorf("code %d (%v) has no sentinel", code, Code(code))
		}
	}
}
