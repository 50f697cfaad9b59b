package store

// Query is query, for the paging test of package store_test.
var Query = (*Store).query
