package query

import (
	"bytes"
	"encoding/xml"
	"net/http"
)

// Fault says whose fault an awsquery error is: the <Type> of its <Error>.
type Fault string

const (
	// Sender faults are the client's (4xx).
	Sender Fault = "Sender"
	// Receiver faults are the service's (5xx).
	Receiver Fault = "Receiver"
)

// MarshalEC2Error returns an EC2 Query error document:
// <Response><Errors><Error><Code/><Message/></Error></Errors><RequestID/></Response>.
func MarshalEC2Error(requestID, code, message string) []byte {
	var b bytes.Buffer
	b.WriteString(xmlHeader)
	b.WriteString("<Response><Errors><Error><Code>")
	escape(&b, code)
	b.WriteString("</Code><Message>")
	escape(&b, message)
	b.WriteString("</Message></Error></Errors><RequestID>")
	escape(&b, requestID)
	b.WriteString("</RequestID></Response>\n")
	return b.Bytes()
}

// WriteEC2Error writes an EC2 Query error with HTTP status.
func WriteEC2Error(w http.ResponseWriter, status int, requestID, code, message string) {
	writeXML(w, status, MarshalEC2Error(requestID, code, message))
}

// MarshalQueryError returns an awsquery error document:
// <ErrorResponse xmlns=namespace><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>.
func MarshalQueryError(namespace, requestID string, fault Fault, code, message string) []byte {
	var b bytes.Buffer
	b.WriteString("<ErrorResponse")
	if namespace != "" {
		b.WriteString(` xmlns="`)
		escape(&b, namespace)
		b.WriteByte('"')
	}
	b.WriteString(">\n  <Error>\n    <Type>")
	escape(&b, string(fault))
	b.WriteString("</Type>\n    <Code>")
	escape(&b, code)
	b.WriteString("</Code>\n    <Message>")
	escape(&b, message)
	b.WriteString("</Message>\n  </Error>\n  <RequestId>")
	escape(&b, requestID)
	b.WriteString("</RequestId>\n</ErrorResponse>\n")
	return b.Bytes()
}

// WriteQueryError writes an awsquery error with HTTP status. namespace is
// the service's xmlns (elbv2.XMLNamespace).
func WriteQueryError(w http.ResponseWriter, status int, namespace, requestID string, fault Fault, code, message string) {
	writeXML(w, status, MarshalQueryError(namespace, requestID, fault, code, message))
}

// escape writes s as XML character data, exactly as xml.EscapeText would.
func escape(b *bytes.Buffer, s string) {
	b.Write(appendEscaped(b.AvailableBuffer(), s))
}

// appendEscaped appends s as XML character data, exactly as xml.EscapeText
// would write it. Printable ASCII and its whitespace — nearly all text: IDs,
// names, addresses, the pretty-printed JSON of policy documents — is copied
// in runs, its special characters and whitespace written as the entities
// EscapeText writes; EscapeText gets only the rest of a string from its
// first other byte (a rune boundary: ASCII came before).
func appendEscaped(dst []byte, s string) []byte {
	last := 0
	for i := 0; i < len(s); i++ {
		switch xmlClass[s[i]] {
		case xmlPlain:
			continue
		case xmlEntity:
			dst = append(append(dst, s[last:i]...), xmlEntities[s[i]]...)
			last = i + 1
			continue
		}
		w := bytes.NewBuffer(append(dst, s[last:i]...))
		// Writing to a bytes.Buffer cannot fail.
		_ = xml.EscapeText(w, []byte(s[i:]))
		return w.Bytes()
	}
	return append(dst, s[last:]...)
}

// How appendEscaped treats a byte.
const (
	xmlOther  = iota // other control characters and all of non-ASCII: EscapeText
	xmlPlain         // copied
	xmlEntity        // written as its entity
)

// xmlEntities are EscapeText's entities for ASCII: the five special
// characters, and the whitespace of pretty-printed text (policy documents).
var xmlEntities = [128]string{
	'"': "&#34;", '\'': "&#39;", '&': "&amp;", '<': "&lt;", '>': "&gt;",
	'\t': "&#x9;", '\n': "&#xA;", '\r': "&#xD;",
}

var xmlClass = func() (c [256]uint8) {
	for i := range 0x7f {
		switch {
		case xmlEntities[i] != "":
			c[i] = xmlEntity
		case i >= 0x20:
			c[i] = xmlPlain
		}
	}
	return c
}()
