package main

import (
	"bytes"
	"fmt"
	"go/format"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// skippedPattern is a model pattern the generated code does not enforce.
type skippedPattern struct {
	shape, pattern, reason string
}

type generator struct {
	m         *model
	modelFile string
	pkg       string
	out       bytes.Buffer

	ops        []*operation
	typeNames  map[string]string // nested structure shape -> Go type name
	nested     []string          // nested structure shapes, sorted
	inputSide  map[string]bool   // nested structures reachable from an input
	validates  map[string]bool   // memo: structure shape has something to validate
	validating map[string]bool   // cycle guard for validates

	rules     map[string]string // rule key -> Go var name
	ruleDefs  map[string]string // Go var name -> initializer
	patterns  map[string]string // shape -> Go var name of its regexp
	patExprs  map[string]string // Go var name -> Go regexp source
	skipped   []skippedPattern
	skipShape map[string]string // shape -> reason its pattern is skipped
}

// generate renders the Go source for model data.
func generate(data []byte, modelFile, pkg string) ([]byte, []skippedPattern, error) {
	m, err := loadModel(data)
	if err != nil {
		return nil, nil, err
	}
	g := &generator{
		m:          m,
		modelFile:  modelFile,
		pkg:        pkg,
		typeNames:  map[string]string{},
		inputSide:  map[string]bool{},
		validates:  map[string]bool{},
		validating: map[string]bool{},
		rules:      map[string]string{},
		ruleDefs:   map[string]string{},
		patterns:   map[string]string{},
		patExprs:   map[string]string{},
		skipShape:  map[string]string{},
	}
	if err := g.plan(); err != nil {
		return nil, nil, err
	}
	if err := g.emit(); err != nil {
		return nil, nil, err
	}
	src, err := format.Source(g.out.Bytes())
	if err != nil {
		return nil, nil, fmt.Errorf("gofmt generated code: %w\n%s", err, g.out.Bytes())
	}
	return src, g.skipped, nil
}

// plan collects operations, nested structures and their Go names.
func (g *generator) plan() error {
	for _, op := range g.m.Operations {
		g.ops = append(g.ops, op)
	}
	sort.Slice(g.ops, func(i, j int) bool { return g.ops[i].Name < g.ops[j].Name })

	reserved := map[string]bool{"Input": true, "Operation": true, "Operations": true,
		"TargetPrefix": true, "APIVersion": true, "SigningName": true}
	for _, op := range g.ops {
		if !isExported(op.Name) {
			return fmt.Errorf("operation name %q is not an exported Go identifier", op.Name)
		}
		reserved[op.Name+"Input"] = true
		reserved[op.Name+"Output"] = true
	}

	seen := map[string]bool{}
	var walk func(shapeName string, input bool) error
	walk = func(shapeName string, input bool) error {
		s := g.m.Shapes[shapeName]
		switch s.Type {
		case "list":
			return walk(s.Member.Shape, input)
		case "map":
			if t := g.m.Shapes[s.Key.Shape].Type; t != "string" {
				return fmt.Errorf("map %s: key type %s is not supported", shapeName, t)
			}
			return walk(s.Value.Shape, input)
		case "structure":
			if input {
				if g.inputSide[shapeName] {
					return nil
				}
				g.inputSide[shapeName] = true
			} else if seen[shapeName] {
				return nil
			}
			if !seen[shapeName] {
				seen[shapeName] = true
				if reserved[shapeName] || !isExported(shapeName) {
					return fmt.Errorf("structure shape %q cannot be used as a Go type name", shapeName)
				}
				g.typeNames[shapeName] = shapeName
				g.nested = append(g.nested, shapeName)
			}
			return g.walkMembers(s, input, walk)
		}
		return nil
	}
	for _, op := range g.ops {
		if err := g.walkMembers(g.m.Shapes[op.Input.Shape], true, walk); err != nil {
			return err
		}
		if op.Output != nil {
			if err := g.walkMembers(g.m.Shapes[op.Output.Shape], false, walk); err != nil {
				return err
			}
		}
	}
	sort.Strings(g.nested)
	return nil
}

func (g *generator) walkMembers(s *shape, input bool, walk func(string, bool) error) error {
	if s.Type != "structure" {
		return fmt.Errorf("shape %s: operation input/output must be a structure", s.name)
	}
	for _, mem := range s.Members {
		if !isExported(mem.Name) || mem.Name == "Validate" || mem.Name == "AuditParams" {
			return fmt.Errorf("member %s.%s cannot be used as a Go field name", s.name, mem.Name)
		}
		if err := walk(mem.Shape, input); err != nil {
			return err
		}
	}
	return nil
}

func isExported(name string) bool {
	r, _ := utf8.DecodeRuneInString(name)
	if !unicode.IsUpper(r) {
		return false
	}
	for _, c := range name {
		if !unicode.IsLetter(c) && !unicode.IsDigit(c) && c != '_' {
			return false
		}
	}
	return true
}

// lowerCamel is the path and audit name of a member: its model name with
// the first letter lowered ("SecretId" -> "secretId").
func lowerCamel(name string) string {
	r, n := utf8.DecodeRuneInString(name)
	return string(unicode.ToLower(r)) + name[n:]
}

func (g *generator) p(format string, args ...any) {
	fmt.Fprintf(&g.out, format, args...)
	g.out.WriteByte('\n')
}

// goType is the Go type of a shape as a struct field (elem=false: scalars
// are pointers so presence is visible) or as a list element or map value.
func (g *generator) goType(shapeName string, elem bool) string {
	s := g.m.Shapes[shapeName]
	ptr := "*"
	if elem {
		ptr = ""
	}
	switch s.Type {
	case "string":
		return ptr + "string"
	case "integer", "long":
		return ptr + "int64"
	case "boolean":
		return ptr + "bool"
	case "float", "double":
		return ptr + "float64"
	case "timestamp":
		return ptr + "awsjson.Time"
	case "blob":
		return "[]byte"
	case "list":
		return "[]" + g.goType(s.Member.Shape, true)
	case "map":
		return "map[string]" + g.goType(s.Value.Shape, true)
	case "structure":
		return ptr + g.typeNames[shapeName]
	}
	panic("unsupported shape type " + s.Type + " of " + shapeName)
}

func (g *generator) emit() error {
	md := g.m.Metadata
	g.p("// Code generated by internal/awsapi/gen from %s; DO NOT EDIT.", g.modelFile)
	g.p("")
	g.p("package %s", g.pkg)
	g.p("")
	g.p("import (")
	g.p("%q", "github.com/coffer-dev/coffer/internal/awsapi/awsjson")
	g.p(")")
	g.p("")
	g.p("// Service metadata from the model.")
	g.p("const (")
	g.p("// TargetPrefix prefixes the X-Amz-Target header: %q.", md.TargetPrefix+".<Operation>")
	g.p("TargetPrefix = %q", md.TargetPrefix)
	g.p("// APIVersion is the model's API version.")
	g.p("APIVersion = %q", md.APIVersion)
	g.p("// SigningName is the SigV4 service name.")
	g.p("SigningName = %q", signingName(md))
	g.p(")")
	g.p("")
	g.p("type (")
	g.p("// Input is implemented by every <Op>Input type.")
	g.p("Input = awsjson.Input")
	g.p("// Operation describes one operation.")
	g.p("Operation = awsjson.Operation")
	g.p(")")
	g.p("")
	g.p("// Operations lists every operation of the model by name. ReadOnly follows")
	g.p("// CloudTrail: Get*, List*, Describe*, Lookup*, BatchGet*, and the operations")
	g.p("// that change no state (KMS cryptographic operations, ValidateResourcePolicy).")
	g.p("var Operations = map[string]Operation{")
	for _, op := range g.ops {
		out := ""
		if op.Output != nil {
			out = op.Output.Shape
		}
		var errs []string
		for _, e := range op.Errors {
			errs = append(errs, strconv.Quote(e.Shape))
		}
		g.p("%q: {", op.Name)
		g.p("Name: %q,", op.Name)
		g.p("NewInput: func() Input { return new(%sInput) },", op.Name)
		g.p("InputShape: %q,", op.Input.Shape)
		if out != "" {
			g.p("OutputShape: %q,", out)
		}
		if readOnly(op.Name) {
			g.p("ReadOnly: true,")
		}
		g.p("Errors: []string{%s},", strings.Join(errs, ", "))
		g.p("},")
	}
	g.p("}")

	for _, op := range g.ops {
		if err := g.emitOperation(op); err != nil {
			return err
		}
	}
	for _, name := range g.nested {
		if err := g.emitNested(name); err != nil {
			return err
		}
	}
	g.emitConstraints()
	return nil
}

func signingName(md metadata) string {
	if md.SigningName != "" {
		return md.SigningName
	}
	return md.EndpointPrefix
}

// readOnly is the CloudTrail readOnly rule: reads (Get*, List*, Describe*,
// Lookup*, BatchGet*) and operations that change no stored state.
func readOnly(op string) bool {
	for _, p := range []string{"Get", "List", "Describe", "Lookup", "BatchGet"} {
		if strings.HasPrefix(op, p) {
			return true
		}
	}
	switch op {
	case "Encrypt", "Decrypt", "ReEncrypt",
		"GenerateDataKey", "GenerateDataKeyWithoutPlaintext",
		"GenerateDataKeyPair", "GenerateDataKeyPairWithoutPlaintext",
		"GenerateRandom", "GenerateMac", "VerifyMac", "Sign", "Verify",
		"DeriveSharedSecret", "ValidateResourcePolicy":
		return true
	}
	return false
}

func (g *generator) emitOperation(op *operation) error {
	in := g.m.Shapes[op.Input.Shape]
	g.p("")
	g.p("// %sInput is the request of %s (model shape %s).", op.Name, op.Name, in.name)
	if len(in.Required) > 0 {
		g.p("// Required: %s.", strings.Join(in.Required, ", "))
	}
	g.emitStruct(op.Name+"Input", in)
	if err := g.emitValidate(op.Name+"Input", in, true); err != nil {
		return err
	}
	if err := g.emitAudit(op.Name+"Input", in, true); err != nil {
		return err
	}
	g.p("")
	if op.Output == nil {
		g.p("// %sOutput is the response of %s, which has no members: it encodes as {}.", op.Name, op.Name)
		g.p("type %sOutput struct{}", op.Name)
		return nil
	}
	out := g.m.Shapes[op.Output.Shape]
	g.p("// %sOutput is the response of %s (model shape %s).", op.Name, op.Name, out.name)
	g.emitStruct(op.Name+"Output", out)
	return nil
}

func (g *generator) emitNested(name string) error {
	s := g.m.Shapes[name]
	g.p("")
	g.p("// %s is the model structure %s.", g.typeNames[name], name)
	if len(s.Required) > 0 {
		g.p("// Required: %s.", strings.Join(s.Required, ", "))
	}
	g.emitStruct(g.typeNames[name], s)
	if !g.inputSide[name] {
		return nil
	}
	if g.needsValidate(name) {
		if err := g.emitValidate(g.typeNames[name], s, false); err != nil {
			return err
		}
	}
	if !g.loggable(name, map[string]bool{}) {
		return nil
	}
	return g.emitAudit(g.typeNames[name], s, false)
}

func (g *generator) emitStruct(goName string, s *shape) {
	if len(s.Members) == 0 {
		g.p("type %s struct{}", goName)
		return
	}
	g.p("type %s struct {", goName)
	for _, mem := range s.Members {
		g.p("%s %s `json:\"%s,omitzero\"`", mem.Name, g.goType(mem.Shape, false), mem.Name)
	}
	g.p("}")
}

// sensitive reports whether a member must never be rendered or logged: the
// member or its shape is sensitive, or any shape it contains is.
func (g *generator) sensitive(r ref) bool {
	return r.Sensitive || g.sensitiveShape(r.Shape, map[string]bool{})
}

func (g *generator) sensitiveShape(name string, seen map[string]bool) bool {
	if seen[name] {
		return false
	}
	seen[name] = true
	s := g.m.Shapes[name]
	if s.Sensitive {
		return true
	}
	switch s.Type {
	case "list":
		return s.Member.Sensitive || g.sensitiveShape(s.Member.Shape, seen)
	case "map":
		return s.Key.Sensitive || s.Value.Sensitive ||
			g.sensitiveShape(s.Key.Shape, seen) || g.sensitiveShape(s.Value.Shape, seen)
	}
	return false
}

// needsValidate reports whether a structure shape has any constraint to
// check, directly or in nested members.
func (g *generator) needsValidate(name string) bool {
	if v, ok := g.validates[name]; ok {
		return v
	}
	if g.validating[name] {
		return false
	}
	g.validating[name] = true
	defer delete(g.validating, name)
	s := g.m.Shapes[name]
	result := false
	for _, mem := range s.Members {
		stmt, err := g.validateStmt(s, mem, "p", "v")
		if err != nil || stmt != "" {
			result = true
			break
		}
	}
	g.validates[name] = result
	return result
}

func (g *generator) emitValidate(goName string, s *shape, top bool) error {
	var stmts []string
	vref, pref := "v", "p"
	if top {
		vref, pref = "&v", `""`
	}
	for _, mem := range s.Members {
		stmt, err := g.validateStmt(s, mem, pref, vref)
		if err != nil {
			return err
		}
		if stmt != "" {
			stmts = append(stmts, stmt)
		}
	}
	g.p("")
	if top {
		g.p("// Validate checks the model's constraints; see awsjson.Validator.")
		if len(stmts) == 0 {
			g.p("func (in *%s) Validate() error { return nil }", goName)
			return nil
		}
		g.p("func (in *%s) Validate() error {", goName)
		g.p("var v awsjson.Validator")
	} else {
		g.p("func (in *%s) validate(v *awsjson.Validator, p string) {", goName)
	}
	for _, st := range stmts {
		g.p("%s", st)
	}
	if top {
		g.p("return v.Err()")
	}
	g.p("}")
	return nil
}

// validateStmt returns the statement that checks one member, or "" when the
// member has nothing to check. pref is the parent path expression, vref the
// *awsjson.Validator expression.
func (g *generator) validateStmt(parent *shape, mem member, pref, vref string) (string, error) {
	s := g.m.Shapes[mem.Shape]
	req := parent.required(mem.Name)
	field := "in." + mem.Name
	name := strconv.Quote(lowerCamel(mem.Name))
	v := strings.TrimPrefix(vref, "&") // method calls work on the addressable value
	sens := mem.Sensitive
	rule, err := g.rule(mem.Shape, sens)
	if err != nil {
		return "", err
	}
	ruleOrNil := rule
	if ruleOrNil == "" {
		ruleOrNil = "nil"
	}
	switch s.Type {
	case "string", "integer", "long", "float", "double", "blob":
		if rule == "" {
			if !req {
				return "", nil
			}
			presence := field + " != nil"
			return fmt.Sprintf("%s.Required(%s, %s, %s, nil)", v, pref, name, presence), nil
		}
		method := map[string]string{"string": "String", "integer": "Int", "long": "Int",
			"float": "Float", "double": "Float", "blob": "Blob"}[s.Type]
		return fmt.Sprintf("%s.%s(%s, %s, %s, %t, %s)", v, method, pref, name, field, req, rule), nil
	case "boolean", "timestamp":
		if !req {
			return "", nil
		}
		return fmt.Sprintf("%s.Required(%s, %s, %s != nil, %s)", v, pref, name, field, ruleOrNil), nil
	case "list":
		elem := g.m.Shapes[s.Member.Shape]
		switch elem.Type {
		case "string":
			if rule == "" && !req {
				return "", nil
			}
			return fmt.Sprintf("%s.Strings(%s, %s, %s, %t, %s)", v, pref, name, field, req, ruleOrNil), nil
		case "structure":
			f := "nil"
			if g.needsValidate(elem.name) {
				f = "(*" + g.typeNames[elem.name] + ").validate"
			}
			if rule == "" && !req && f == "nil" {
				return "", nil
			}
			return fmt.Sprintf("awsjson.ValidateList(%s, %s, %s, %s, %t, %s, %s)", vref, pref, name, field, req, ruleOrNil, f), nil
		default:
			if r, err := g.rule(elem.name, false); err != nil || r != "" {
				return "", fmt.Errorf("%s.%s: constraints on list elements of type %s are not supported", parent.name, mem.Name, elem.Type)
			}
			if rule == "" && !req {
				return "", nil
			}
			return fmt.Sprintf("awsjson.ValidateList(%s, %s, %s, %s, %t, %s, nil)", vref, pref, name, field, req, ruleOrNil), nil
		}
	case "map":
		val := g.m.Shapes[s.Value.Shape]
		if rule == "" && !req {
			return "", nil
		}
		if val.Type == "string" {
			return fmt.Sprintf("%s.StringMap(%s, %s, %s, %t, %s)", v, pref, name, field, req, ruleOrNil), nil
		}
		if r, err := g.rule(val.name, false); err != nil || r != "" || (val.Type == "structure" && g.needsValidate(val.name)) {
			return "", fmt.Errorf("%s.%s: constraints on map values of type %s are not supported", parent.name, mem.Name, val.Type)
		}
		return fmt.Sprintf("awsjson.ValidateMap(%s, %s, %s, %s, %t, %s)", vref, pref, name, field, req, ruleOrNil), nil
	case "structure":
		f := "nil"
		if g.needsValidate(s.name) {
			f = "(*" + g.typeNames[s.name] + ").validate"
		}
		if !req && f == "nil" {
			return "", nil
		}
		return fmt.Sprintf("awsjson.ValidateStruct(%s, %s, %s, %s, %t, %s)", vref, pref, name, field, req, f), nil
	}
	return "", fmt.Errorf("%s.%s: shape type %s is not supported", parent.name, mem.Name, s.Type)
}

// rule returns the Go var name of the awsjson.Rule for a shape (creating
// it), or "" when the shape has no constraint and is not sensitive.
// memberSensitive marks a member-level sensitive trait.
func (g *generator) rule(shapeName string, memberSensitive bool) (string, error) {
	key := shapeName
	if memberSensitive {
		key += "/sensitive"
	}
	if v, ok := g.rules[key]; ok {
		return v, nil
	}
	s := g.m.Shapes[shapeName]
	var fields []string
	sens := memberSensitive || s.Sensitive
	if sens {
		fields = append(fields, "Sensitive: true")
	}
	limit := func(field, num string) error {
		if _, err := strconv.ParseInt(num, 10, 64); err != nil {
			return fmt.Errorf("shape %s: %s %q is not an integer", shapeName, field, num)
		}
		fields = append(fields, fmt.Sprintf("%s: awsjson.Some(%s)", field, num))
		return nil
	}
	switch s.Type {
	case "string", "blob", "list", "map":
		if s.Min != nil {
			if err := limit("MinLen", s.Min.String()); err != nil {
				return "", err
			}
		}
		if s.Max != nil {
			if err := limit("MaxLen", s.Max.String()); err != nil {
				return "", err
			}
		}
	case "integer", "long", "float", "double":
		if s.Min != nil {
			if err := limit("Min", s.Min.String()); err != nil {
				return "", err
			}
		}
		if s.Max != nil {
			if err := limit("Max", s.Max.String()); err != nil {
				return "", err
			}
		}
	}
	if s.Type == "string" {
		if len(s.Enum) > 0 {
			q := make([]string, len(s.Enum))
			for i, e := range s.Enum {
				q[i] = strconv.Quote(e)
			}
			fields = append(fields, "Enum: []string{"+strings.Join(q, ", ")+"}")
		}
		if s.Pattern != nil {
			if re := g.pattern(s); re != "" {
				fields = append(fields, "Pattern: "+re, "PatternText: "+goString(*s.Pattern))
			}
		}
	}
	switch s.Type {
	case "list":
		if g.m.Shapes[s.Member.Shape].Type == "string" {
			r, err := g.rule(s.Member.Shape, s.Member.Sensitive)
			if err != nil {
				return "", err
			}
			if r != "" {
				fields = append(fields, "Member: "+r)
			}
		}
	case "map":
		k, err := g.rule(s.Key.Shape, s.Key.Sensitive)
		if err != nil {
			return "", err
		}
		if k != "" {
			fields = append(fields, "Key: "+k)
		}
		if g.m.Shapes[s.Value.Shape].Type == "string" {
			val, err := g.rule(s.Value.Shape, s.Value.Sensitive)
			if err != nil {
				return "", err
			}
			if val != "" {
				fields = append(fields, "Value: "+val)
			}
		}
	}
	if len(fields) == 0 {
		g.rules[key] = ""
		return "", nil
	}
	name := "rule" + goIdent(shapeName)
	if memberSensitive && !s.Sensitive {
		name += "Sensitive"
	}
	g.rules[key] = name
	g.ruleDefs[name] = "&awsjson.Rule{" + strings.Join(fields, ", ") + "}"
	return name, nil
}

// pattern returns the Go var name of a string shape's compiled pattern, or
// "" when the pattern cannot be enforced (recorded in g.skipped).
func (g *generator) pattern(s *shape) string {
	if v, ok := g.patterns[s.name]; ok {
		return v
	}
	expr, err := translatePattern(*s.Pattern)
	if err != nil {
		g.patterns[s.name] = ""
		g.skipped = append(g.skipped, skippedPattern{shape: s.name, pattern: *s.Pattern, reason: err.Error()})
		sort.Slice(g.skipped, func(i, j int) bool { return g.skipped[i].shape < g.skipped[j].shape })
		return ""
	}
	name := "re" + goIdent(s.name)
	g.patterns[s.name] = name
	g.patExprs[name] = expr
	return name
}

// goString renders s as a Go string literal, raw when possible.
func goString(s string) string {
	if !strings.ContainsAny(s, "`\r") && utf8.ValidString(s) {
		return "`" + s + "`"
	}
	return strconv.Quote(s)
}

func goIdent(s string) string {
	var b strings.Builder
	for _, c := range s {
		if unicode.IsLetter(c) || unicode.IsDigit(c) {
			b.WriteRune(c)
		}
	}
	return b.String()
}

// loggable reports whether a shape contributes anything to AuditParams:
// blobs never do, a structure needs a loggable member, a list or map a
// loggable element.
func (g *generator) loggable(name string, seen map[string]bool) bool {
	s := g.m.Shapes[name]
	switch s.Type {
	case "structure":
		if seen[name] {
			return false
		}
		seen[name] = true
		for _, mem := range s.Members {
			if !g.sensitive(mem.ref) && g.loggable(mem.Shape, seen) {
				return true
			}
		}
		return false
	case "list":
		return !s.Member.Sensitive && g.loggable(s.Member.Shape, seen)
	case "map":
		return !s.Value.Sensitive && g.loggable(s.Value.Shape, seen)
	case "blob":
		return false
	}
	return true
}

func (g *generator) emitAudit(goName string, s *shape, top bool) error {
	var stmts []string
	for _, mem := range s.Members {
		sh := g.m.Shapes[mem.Shape]
		key := strconv.Quote(lowerCamel(mem.Name))
		field := "in." + mem.Name
		if g.sensitive(mem.ref) {
			stmts = append(stmts, "// "+mem.Name+": sensitive, never logged")
			continue
		}
		if !g.loggable(mem.Shape, map[string]bool{}) {
			why := "no loggable members"
			if sh.Type == "blob" || (sh.Type == "list" && g.m.Shapes[sh.Member.Shape].Type == "blob") {
				why = "blob, not logged"
			}
			stmts = append(stmts, "// "+mem.Name+": "+why)
			continue
		}
		switch sh.Type {
		case "string":
			stmts = append(stmts, fmt.Sprintf("p.String(%s, %s)", key, field))
		case "integer", "long":
			stmts = append(stmts, fmt.Sprintf("p.Int(%s, %s)", key, field))
		case "float", "double":
			stmts = append(stmts, fmt.Sprintf("p.Float(%s, %s)", key, field))
		case "boolean":
			stmts = append(stmts, fmt.Sprintf("p.Bool(%s, %s)", key, field))
		case "timestamp":
			stmts = append(stmts, fmt.Sprintf("p.Time(%s, %s)", key, field))
		case "list":
			elem := g.m.Shapes[sh.Member.Shape]
			switch elem.Type {
			case "structure":
				stmts = append(stmts, fmt.Sprintf("awsjson.SetObjects(p, %s, %s, (*%s).auditParams)", key, field, g.typeNames[elem.name]))
			case "list", "map":
				return fmt.Errorf("%s.%s: nested collections in inputs are not supported", s.name, mem.Name)
			default:
				stmts = append(stmts, fmt.Sprintf("awsjson.SetList(p, %s, %s)", key, field))
			}
		case "map":
			val := g.m.Shapes[sh.Value.Shape]
			switch val.Type {
			case "structure", "list", "map", "blob":
				return fmt.Errorf("%s.%s: maps of %s in inputs are not supported", s.name, mem.Name, val.Type)
			}
			stmts = append(stmts, fmt.Sprintf("awsjson.SetMap(p, %s, %s)", key, field))
		case "structure":
			stmts = append(stmts, fmt.Sprintf("awsjson.SetObject(p, %s, %s, (*%s).auditParams)", key, field, g.typeNames[sh.name]))
		default:
			return fmt.Errorf("%s.%s: shape type %s is not supported", s.name, mem.Name, sh.Type)
		}
	}
	n := 0
	for _, st := range stmts {
		if !strings.HasPrefix(st, "//") {
			n++
		}
	}
	g.p("")
	if top {
		g.p("// AuditParams returns the request parameters as CloudTrail records them.")
		g.p("func (in *%s) AuditParams() map[string]any {", goName)
	} else {
		g.p("func (in *%s) auditParams() map[string]any {", goName)
	}
	if n == 0 {
		for _, st := range stmts {
			g.p("%s", st)
		}
		if top {
			g.p("return nil")
		} else {
			g.p("return map[string]any{}")
		}
		g.p("}")
		return nil
	}
	g.p("p := make(awsjson.Params, %d)", n)
	for _, st := range stmts {
		g.p("%s", st)
	}
	if top {
		g.p("return p.OrNil()")
	} else {
		g.p("return p")
	}
	g.p("}")
	return nil
}

func (g *generator) emitConstraints() {
	if len(g.patExprs) > 0 {
		names := sortedKeys(g.patExprs)
		g.p("")
		g.p("// Model patterns, compiled for a whole-value match (Java Pattern.matches).")
		g.p("var (")
		for _, n := range names {
			g.p("%s = regexp.MustCompile(%s)", n, goString(g.patExprs[n]))
		}
		g.p(")")
	}
	if len(g.skipped) > 0 {
		g.p("")
		g.p("// Model patterns not enforced (Go's RE2 cannot express them):")
		for _, s := range g.skipped {
			g.p("//   - %s: %s (%s)", s.shape, s.pattern, s.reason)
		}
	}
	if len(g.ruleDefs) > 0 {
		g.p("")
		g.p("// Model constraints by shape.")
		g.p("var (")
		for _, n := range sortedKeys(g.ruleDefs) {
			g.p("%s = %s", n, g.ruleDefs[n])
		}
		g.p(")")
	}
	if len(g.patExprs) > 0 {
		// add the regexp import
		src := g.out.Bytes()
		imp := []byte("import (\n")
		i := bytes.Index(src, imp)
		rest := slices.Clone(src[i+len(imp):])
		g.out.Truncate(i + len(imp))
		g.out.WriteString("\"regexp\"\n\n")
		g.out.Write(rest)
	}
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
