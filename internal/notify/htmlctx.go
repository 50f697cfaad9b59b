package notify

import (
	"errors"
	"fmt"
	"strings"
)

// htmlContext follows where an HTML template's output stands, so that a value is
// escaped as html/template escapes it there. It knows the contexts the e-mails use:
// element text, and double-quoted attribute values, among them URLs (href, src). An
// action anywhere else (inside a tag, an unquoted or single-quoted attribute, a
// script, a style, an event handler) is refused rather than escaped wrongly.
type htmlContext struct {
	state    htmlState
	tag      strings.Builder // the name of the tag being read
	attr     strings.Builder // the name of the attribute being read
	value    strings.Builder // the attribute value so far (URLs: which part we are in)
	raw      string          // "script" or "style": their text is not HTML
	afterURL bool            // an action already wrote into this URL
}

type htmlState int

const (
	stateText        htmlState = iota
	stateTagName               // after '<'
	stateTag                   // inside a tag, between attributes
	stateAttrName              // reading an attribute's name
	stateAfterName             // after the name, before '=' or the next attribute
	stateBeforeValue           // after '='
	stateValue                 // inside a double-quoted value
	stateDecl                  // <!DOCTYPE …>
	stateOther                 // a context this evaluator does not escape for
)

// startAttr begins an attribute name with its first byte b.
func (c *htmlContext) startAttr(b byte) {
	c.state = stateAttrName
	c.attr.Reset()
	c.attr.WriteByte(b)
}

// advance moves the context over text written to the output.
func (c *htmlContext) advance(text []byte) {
	for _, b := range text {
		switch c.state {
		case stateText:
			if b == '<' {
				c.state = stateTagName
				c.tag.Reset()
			}
		case stateTagName:
			switch {
			case b == '!' && c.tag.Len() == 0:
				c.state = stateDecl
			case b == '/' && c.tag.Len() == 0, isNameByte(b):
				c.tag.WriteByte(b)
			case b == '>':
				c.endTag()
			case isSpace(b):
				c.state = stateTag
			default:
				c.state = stateOther
			}
		case stateTag:
			switch {
			case b == '>':
				c.endTag()
			case isNameByte(b):
				c.startAttr(b)
			case isSpace(b), b == '/':
			default:
				c.state = stateOther
			}
		case stateAttrName:
			switch {
			case isNameByte(b):
				c.attr.WriteByte(b)
			case b == '=':
				c.state = stateBeforeValue
			case isSpace(b):
				c.state = stateAfterName
			case b == '>':
				c.endTag()
			default:
				c.state = stateOther
			}
		case stateAfterName:
			switch {
			case b == '=':
				c.state = stateBeforeValue
			case b == '>':
				c.endTag()
			case isNameByte(b):
				c.startAttr(b)
			case isSpace(b):
			default:
				c.state = stateOther
			}
		case stateBeforeValue:
			switch {
			case b == '"':
				c.state = stateValue
				c.value.Reset()
				c.afterURL = false
			case isSpace(b):
			default:
				c.state = stateOther // unquoted or single-quoted values are not supported
			}
		case stateDecl:
			if b == '-' {
				c.state = stateOther // comments, which html/template strips, are not supported
			} else if b == '>' {
				c.state = stateText
			}
		case stateValue:
			if b == '"' {
				c.state = stateTag
			} else {
				c.value.WriteByte(b)
			}
		}
	}
}

// endTag leaves a tag; the text of <script> and <style> is not HTML.
func (c *htmlContext) endTag() {
	c.state = stateText
	if t := strings.ToLower(c.tag.String()); t == "script" || t == "style" {
		c.state, c.raw = stateOther, t
	}
}

func isNameByte(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '-' || b == '_' || b == ':'
}

func isSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\n' || b == '\r' || b == '\f' }

var errContext = errors.New("action in an HTML context the e-mail renderer does not escape for")

// escape escapes s for the current context, as html/template's escapers do.
func (c *htmlContext) escape(s string) (string, error) {
	switch c.state {
	case stateText:
		return htmlEscape(s), nil
	case stateValue:
		name := strings.ToLower(c.attr.String())
		switch {
		case strings.HasPrefix(name, "on") || name == "style" || name == "srcset":
			return "", fmt.Errorf("%w (attribute %s)", errContext, name)
		case name == "href" || name == "src" || name == "action" || name == "cite":
			if c.afterURL {
				return "", fmt.Errorf("%w (two actions in one URL)", errContext)
			}
			c.afterURL = true
			v := c.value.String()
			switch {
			case strings.ContainsAny(v, "?#"):
				return htmlEscape(urlProcess(s, false)), nil
			case v == "":
				if !safeURL(s) {
					s = "#ZgotmplZ"
				}
			}
			return htmlEscape(urlProcess(s, true)), nil
		}
		return htmlEscape(s), nil
	}
	return "", errContext
}

// htmlEscape is html/template's escaper for text and attribute values.
var htmlEscape = strings.NewReplacer(
	"\x00", "\uFFFD", `"`, "&#34;", "&", "&amp;", "'", "&#39;", "+", "&#43;", "<", "&lt;", ">", "&gt;",
).Replace

// safeURL is html/template's filter: a URL with a scheme must be http, https or mailto.
func safeURL(s string) bool {
	if i := strings.IndexByte(s, ':'); i >= 0 && !strings.ContainsRune(s[:i], '/') {
		p := s[:i]
		return strings.EqualFold(p, "http") || strings.EqualFold(p, "https") || strings.EqualFold(p, "mailto")
	}
	return true
}

// urlProcess percent-encodes what a URL may not hold, as html/template does: norm
// keeps reserved characters and existing escapes (a URL's start or path), !norm
// encodes them too (a value in the query or fragment).
func urlProcess(s string, norm bool) string {
	var b strings.Builder
	written := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '!', '#', '$', '&', '*', '+', ',', '/', ':', ';', '=', '?', '@', '[', ']':
			if norm {
				continue
			}
		case '-', '.', '_', '~':
			continue
		case '%':
			if norm {
				continue
			}
		default:
			if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' {
				continue
			}
		}
		b.WriteString(s[written:i])
		fmt.Fprintf(&b, "%%%02x", c)
		written = i + 1
	}
	if written == 0 {
		return s
	}
	b.WriteString(s[written:])
	return b.String()
}
