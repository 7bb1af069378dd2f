package capgen

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
)

// DICOM UIDs used by the builder.
const (
	AppContext       = "1.2.840.10008.3.1.1.1"
	ExplicitVRLE     = "1.2.840.10008.1.2.1"
	ImplClassUID     = "1.2.826.0.1.3680043.10.1234.1" // synthetic
	ImplVersion      = "MEDTAP_CAPGEN"
	PatientRootFind  = "1.2.840.10008.5.1.4.1.2.1.1"
	PatientRootMove  = "1.2.840.10008.5.1.4.1.2.1.2"
	StorageCommitPRS = "1.2.840.10008.1.20.1"
)

// Association describes one synthetic DICOM association (PS3.8): one
// presentation context (id 1, Explicit VR Little Endian) and its DIMSE
// operations.
type Association struct {
	Calling   string      `yaml:"calling"`
	Called    string      `yaml:"called"`
	SOPClass  string      `yaml:"sop_class"`
	User      *UserID     `yaml:"user"`   // user identity sub-item 0x58
	Reject    bool        `yaml:"reject"` // answer A-ASSOCIATE-RJ instead of AC
	Ops       []Operation `yaml:"ops"`
	NoRelease bool        `yaml:"no_release"`
}

// UserID is a user identity negotiation (type 1 username, 2 username and
// passcode).
type UserID struct {
	Type      uint8  `yaml:"type"`
	Primary   string `yaml:"primary"`
	Secondary string `yaml:"secondary"`
}

// Operation is one DIMSE request and its responses.
type Operation struct {
	Command         string     `yaml:"command"` // C-STORE, C-FIND, C-MOVE, N-ACTION, N-SET, N-CREATE, N-DELETE
	SOPInstance     string     `yaml:"sop_instance"`
	SOPClass        string     `yaml:"sop_class"` // default: the association's
	MoveDestination string     `yaml:"move_destination"`
	ActionType      uint16     `yaml:"action_type"`
	Dataset         []string   `yaml:"dataset"`   // "gggg,eeee VR value"
	Responses       [][]string `yaml:"responses"` // pending C-FIND matches
	Completed       uint16     `yaml:"completed"` // C-MOVE sub-operations
}

var commandFields = map[string]uint16{
	"C-STORE": 0x0001, "C-GET": 0x0010, "C-FIND": 0x0020, "C-MOVE": 0x0021, "C-ECHO": 0x0030,
	"N-SET": 0x0120, "N-ACTION": 0x0130, "N-CREATE": 0x0140, "N-DELETE": 0x0150,
}

// Talk writes the association on an open connection: A-ASSOCIATE-RQ/AC,
// each operation, A-RELEASE-RQ/RP.
func (a *Association) Talk(c *Conn) error {
	c.Send(0, a.associateRQ())
	if a.Reject {
		c.Send(1, []byte{0x03, 0, 0, 0, 0, 4, 0, 1, 1, 1})
		return nil
	}
	c.Send(1, a.associateAC())
	for i, op := range a.Ops {
		if err := a.operation(c, uint16(i+1), op); err != nil {
			return err
		}
	}
	if !a.NoRelease {
		c.Send(0, []byte{0x05, 0, 0, 0, 0, 4, 0, 0, 0, 0})
		c.Send(1, []byte{0x06, 0, 0, 0, 0, 4, 0, 0, 0, 0})
	}
	return nil
}

func item(typ byte, body []byte) []byte {
	b := []byte{typ, 0, 0, 0}
	binary.BigEndian.PutUint16(b[2:], uint16(len(body)))
	return append(b, body...)
}

func aeField(s string) []byte {
	b := []byte(fmt.Sprintf("%-16s", s))
	return b[:16]
}

func (a *Association) header(typ byte, items []byte) []byte {
	body := []byte{0, 1, 0, 0}
	body = append(body, aeField(a.Called)...)
	body = append(body, aeField(a.Calling)...)
	body = append(body, make([]byte, 32)...)
	body = append(body, items...)
	pdu := []byte{typ, 0, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(pdu[2:], uint32(len(body)))
	return append(pdu, body...)
}

func (a *Association) userInfo(rq bool) []byte {
	var ui []byte
	ml := make([]byte, 4)
	binary.BigEndian.PutUint32(ml, 16384)
	ui = append(ui, item(0x51, ml)...)
	ui = append(ui, item(0x52, []byte(ImplClassUID))...)
	ui = append(ui, item(0x55, []byte(ImplVersion))...)
	if rq && a.User != nil {
		u := []byte{a.User.Type, 0, 0, 0}
		binary.BigEndian.PutUint16(u[2:], uint16(len(a.User.Primary)))
		u = append(u, a.User.Primary...)
		l := make([]byte, 2)
		binary.BigEndian.PutUint16(l, uint16(len(a.User.Secondary)))
		u = append(u, l...)
		u = append(u, a.User.Secondary...)
		ui = append(ui, item(0x58, u)...)
	}
	return item(0x50, ui)
}

func (a *Association) associateRQ() []byte {
	items := item(0x10, []byte(AppContext))
	pc := []byte{1, 0, 0, 0}
	pc = append(pc, item(0x30, []byte(a.SOPClass))...)
	pc = append(pc, item(0x40, []byte(ExplicitVRLE))...)
	items = append(items, item(0x20, pc)...)
	items = append(items, a.userInfo(true)...)
	return a.header(0x01, items)
}

func (a *Association) associateAC() []byte {
	items := item(0x10, []byte(AppContext))
	pc := []byte{1, 0, 0, 0}
	pc = append(pc, item(0x40, []byte(ExplicitVRLE))...)
	items = append(items, item(0x21, pc)...)
	items = append(items, a.userInfo(false)...)
	return a.header(0x02, items)
}

// pdata wraps one PDV (presentation context 1, last fragment).
func pdata(command bool, data []byte) []byte {
	ctl := byte(0x02)
	if command {
		ctl |= 0x01
	}
	pdv := make([]byte, 6, 6+len(data))
	binary.BigEndian.PutUint32(pdv, uint32(2+len(data)))
	pdv[4], pdv[5] = 1, ctl
	pdv = append(pdv, data...)
	pdu := []byte{0x04, 0, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(pdu[2:], uint32(len(pdv)))
	return append(pdu, pdv...)
}

// cmd builds an implicit VR little endian command set.
type cmd struct{ b []byte }

func (c *cmd) el(tag uint16, v []byte) {
	h := make([]byte, 8)
	binary.LittleEndian.PutUint16(h[0:], 0)
	binary.LittleEndian.PutUint16(h[2:], tag)
	binary.LittleEndian.PutUint32(h[4:], uint32(len(v)))
	c.b = append(c.b, h...)
	c.b = append(c.b, v...)
}

func (c *cmd) uid(tag uint16, s string) {
	v := []byte(s)
	if len(v)%2 == 1 {
		v = append(v, 0)
	}
	c.el(tag, v)
}

func (c *cmd) str(tag uint16, s string) {
	v := []byte(s)
	if len(v)%2 == 1 {
		v = append(v, ' ')
	}
	c.el(tag, v)
}

func (c *cmd) us(tag, v uint16) {
	b := make([]byte, 2)
	binary.LittleEndian.PutUint16(b, v)
	c.el(tag, b)
}

func (c *cmd) bytes() []byte {
	g := make([]byte, 12)
	binary.LittleEndian.PutUint32(g[4:], 4)
	binary.LittleEndian.PutUint32(g[8:], uint32(len(c.b)))
	return append(g, c.b...)
}

// Dataset encodes "gggg,eeee VR value" lines as Explicit VR Little Endian.
// Lines must be in tag order.
func Dataset(lines []string) ([]byte, error) {
	var b []byte
	for _, l := range lines {
		parts := strings.SplitN(l, " ", 3)
		if len(parts) < 2 {
			return nil, fmt.Errorf("capgen: dataset line %q: want \"gggg,eeee VR value\"", l)
		}
		g, e, ok := strings.Cut(parts[0], ",")
		gv, err1 := strconv.ParseUint(g, 16, 16)
		ev, err2 := strconv.ParseUint(e, 16, 16)
		if !ok || err1 != nil || err2 != nil || len(parts[1]) != 2 {
			return nil, fmt.Errorf("capgen: dataset line %q: bad tag or VR", l)
		}
		val := ""
		if len(parts) == 3 {
			val = parts[2]
		}
		v := []byte(val)
		vr := parts[1]
		if vr == "US" {
			n, err := strconv.ParseUint(val, 10, 16)
			if err != nil {
				return nil, fmt.Errorf("capgen: dataset line %q: bad US", l)
			}
			v = binary.LittleEndian.AppendUint16(nil, uint16(n))
		} else if len(v)%2 == 1 {
			if vr == "UI" {
				v = append(v, 0)
			} else {
				v = append(v, ' ')
			}
		}
		h := binary.LittleEndian.AppendUint16(nil, uint16(gv))
		h = binary.LittleEndian.AppendUint16(h, uint16(ev))
		h = append(h, vr...)
		switch vr {
		case "OB", "OW", "SQ", "UN", "UT", "UC", "UR":
			h = append(h, 0, 0)
			h = binary.LittleEndian.AppendUint32(h, uint32(len(v)))
		default:
			h = binary.LittleEndian.AppendUint16(h, uint16(len(v)))
		}
		b = append(b, h...)
		b = append(b, v...)
	}
	return b, nil
}

func (a *Association) operation(c *Conn, id uint16, op Operation) error {
	field, ok := commandFields[op.Command]
	if !ok {
		return fmt.Errorf("capgen: unknown DIMSE command %q", op.Command)
	}
	sop := op.SOPClass
	if sop == "" {
		sop = a.SOPClass
	}
	inst := op.SOPInstance
	if inst == "" {
		inst = fmt.Sprintf("2.25.%d", 1000+int(id))
	}
	ds, err := Dataset(op.Dataset)
	if err != nil {
		return err
	}
	hasDS := len(op.Dataset) > 0
	rq := &cmd{}
	normalised := field >= 0x0100
	if normalised {
		rq.uid(0x0003, sop) // RequestedSOPClassUID
	} else {
		rq.uid(0x0002, sop) // AffectedSOPClassUID
	}
	rq.us(0x0100, field)
	rq.us(0x0110, id)
	if op.Command == "C-MOVE" {
		rq.str(0x0600, op.MoveDestination)
	}
	if !normalised {
		rq.us(0x0700, 0)
	}
	if hasDS {
		rq.us(0x0800, 0x0000)
	} else {
		rq.us(0x0800, 0x0101)
	}
	if op.Command == "C-STORE" {
		rq.uid(0x1000, inst)
	}
	if normalised {
		rq.uid(0x1001, inst)
		if op.Command == "N-ACTION" {
			rq.us(0x1008, op.ActionType)
		}
	}
	c.Send(0, pdata(true, rq.bytes()))
	if hasDS {
		c.Send(0, pdata(false, ds))
	}
	for _, r := range op.Responses {
		rds, err := Dataset(r)
		if err != nil {
			return err
		}
		rsp := &cmd{}
		rsp.uid(0x0002, sop)
		rsp.us(0x0100, field|0x8000)
		rsp.us(0x0120, id)
		rsp.us(0x0800, 0x0000)
		rsp.us(0x0900, 0xff00)
		c.Send(1, pdata(true, rsp.bytes()))
		c.Send(1, pdata(false, rds))
	}
	rsp := &cmd{}
	rsp.uid(0x0002, sop)
	rsp.us(0x0100, field|0x8000)
	rsp.us(0x0120, id)
	rsp.us(0x0800, 0x0101)
	rsp.us(0x0900, 0x0000)
	if op.Command == "C-MOVE" || op.Command == "C-GET" {
		rsp.us(0x1020, 0)
		rsp.us(0x1021, op.Completed)
		rsp.us(0x1022, 0)
		rsp.us(0x1023, 0)
	}
	if normalised || op.Command == "C-STORE" {
		rsp.uid(0x1000, inst)
	}
	c.Send(1, pdata(true, rsp.bytes()))
	return nil
}
