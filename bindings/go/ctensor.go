package salus

import "salus.dev/salus/internal/capi"

// Tensors cross into libsalus as copies: C tensors live only for the call
// that needs them, so Go code never holds C memory.

type cTensor = capi.Struct_SS_salus_tensor

// toC copies t into a new libsalus tensor, freed with capi.Salus_tensor_free.
func (t *Tensor) toC() (cTensor, error) {
	data := t.Bytes()
	n, err := elements(t.shape)
	if err != nil {
		return nil, err
	}
	if len(data) != n*t.dtype.Size() {
		// Only a zero Tensor{} gets here: the constructors keep them equal.
		return nil, errorf(ErrInvalid, "tensor of dtype %v and shape %v holds %d bytes", t.dtype, t.shape, len(data))
	}
	out := []uintptr{0}
	if err := check(func() int { return capi.Salus_tensor_new(t.dtype.c(), t.shape, data, out) }); err != nil {
		return nil, err
	}
	return capi.SwigcptrStruct_SS_salus_tensor(out[0]), nil
}

// fromC copies a libsalus tensor into Go memory; ct stays owned by the caller.
func fromC(ct cTensor) (*Tensor, error) {
	shape := make([]int64, capi.Salus_tensor_rank(ct))
	for i := range shape {
		shape[i] = capi.Salus_tensor_dim(ct, int64(i))
	}
	t, err := Zeros(DType(capi.Salus_tensor_dtype(ct)), shape...)
	if err != nil {
		return nil, err
	}
	if src := capi.Salus_tensor_const_data(ct); copy(t.Bytes(), src) != len(src) {
		return nil, errorf(ErrProtocol, "an output of dtype %v and shape %v holds %d bytes", t.dtype, shape, len(src))
	}
	return t, nil
}

// takeOutputs copies the tensors a run or wait wrote into outs, and frees
// them all.
func takeOutputs(outs []uintptr) ([]*Tensor, error) {
	tensors := make([]*Tensor, len(outs))
	var first error
	for i, p := range outs {
		ct := capi.SwigcptrStruct_SS_salus_tensor(p)
		if first == nil {
			tensors[i], first = fromC(ct)
		}
		capi.Salus_tensor_free(ct)
	}
	if first != nil {
		return nil, first
	}
	return tensors, nil
}

// feedsToC makes the input ids and C tensors of feeds, in ascending id
// order; release frees the tensors.
func feedsToC(feeds Feeds) (ids []uint32, tensors []uintptr, release func(), err error) {
	ids = feeds.ids()
	tensors = make([]uintptr, 0, len(ids))
	release = func() {
		for _, p := range tensors {
			capi.Salus_tensor_free(capi.SwigcptrStruct_SS_salus_tensor(p))
		}
	}
	for _, id := range ids {
		t := feeds[TensorID(id)]
		if t == nil {
			release()
			return nil, nil, nil, errorf(ErrInvalid, "the feed of tensor %d is nil", id)
		}
		ct, err := t.toC()
		if err != nil {
			release()
			return nil, nil, nil, err
		}
		tensors = append(tensors, ct.Swigcptr())
	}
	return ids, tensors, release, nil
}
