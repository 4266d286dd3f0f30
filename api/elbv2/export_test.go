package elbv2

// LookupAnyOperation is lookupOperation: generated operations and the hand-
// written ones.
var LookupAnyOperation = lookupOperation

// HandWrittenOperations are the operations of listenerattrs.go.
func HandWrittenOperations() []string {
	return []string{"DescribeListenerAttributes", "ModifyListenerAttributes"}
}
