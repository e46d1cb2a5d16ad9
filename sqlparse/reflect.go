package sqlparse

import (
	pg "github.com/pganalyze/pg_query_go/v5"
	"google.golang.org/protobuf/reflect/protoreflect"
)

type (
	protoFieldDescriptor = protoreflect.FieldDescriptor
	protoValue           = protoreflect.Value
)

// collectNodes appends the *pg.Node values held by one field.
func collectNodes(fd protoreflect.FieldDescriptor, v protoreflect.Value, out *[]*pg.Node) {
	if fd.Message() == nil {
		return
	}
	if fd.IsList() {
		l := v.List()
		for i := 0; i < l.Len(); i++ {
			if nd, ok := l.Get(i).Message().Interface().(*pg.Node); ok {
				*out = append(*out, nd)
			}
		}
		return
	}
	if fd.IsMap() {
		return
	}
	switch m := v.Message().Interface().(type) {
	case *pg.Node:
		*out = append(*out, m)
	default:
		// A typed sub-message (WindowDef, Alias...): wrap its nodes.
		v.Message().Range(func(fd2 protoreflect.FieldDescriptor, v2 protoreflect.Value) bool {
			collectNodes(fd2, v2, out)
			return true
		})
	}
}
