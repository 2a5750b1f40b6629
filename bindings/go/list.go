package salus

// listAll runs a salus_list_* call twice: to count the entries, then to
// fill a C array made by newArray; get converts each entry to Go, and
// freeArray frees the array. Entries may appear between the calls, so it
// retries until the array holds them all.
func listAll[A any, T any](newArray func(int) A, freeArray func(A), get func(A, int) T,
	list func(array A, max int64, count []int64) int) ([]T, error) {
	var none A // NULL: count only
	count := []int64{0}
	if err := check(func() int { return list(none, 0, count) }); err != nil {
		return nil, err
	}
	for {
		max := count[0] + 4 // room for a few more
		array := newArray(int(max))
		err := check(func() int { return list(array, max, count) })
		var entries []T
		if err == nil && count[0] <= max {
			entries = make([]T, count[0])
			for i := range entries {
				entries[i] = get(array, i)
			}
		}
		freeArray(array)
		if err != nil || entries != nil {
			return entries, err
		}
	}
}
