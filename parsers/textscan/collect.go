package textscan

// Collector limits.
const (
	// MaxValues is how many values a Collector keeps for detection; the
	// counts go on past it.
	MaxValues = 16
)

// Counts counts hits per category. The JSON names are the categories'.
type Counts struct {
	IDNumber int `json:"id_number,omitempty"`
	Phone    int `json:"phone,omitempty"`
	BankCard int `json:"bank_card,omitempty"`
}

// Total is the number of hits of every category.
func (c Counts) Total() int { return c.IDNumber + c.Phone + c.BankCard }

// Add counts one hit.
func (c *Counts) Add(cat Category) {
	switch cat {
	case IDNumber:
		c.IDNumber++
	case Phone:
		c.Phone++
	case BankCard:
		c.BankCard++
	}
}

// Categories lists the categories counted, in a fixed order; nil if none.
func (c Counts) Categories() []string {
	var out []string
	if c.IDNumber > 0 {
		out = append(out, IDNumber.String())
	}
	if c.Phone > 0 {
		out = append(out, Phone.String())
	}
	if c.BankCard > 0 {
		out = append(out, BankCard.String())
	}
	return out
}

// Value is one identifier found, for detection only: where it was (a
// parser-defined field name such as "body", "uri", "msg"), its category and
// its text. It mirrors hl7.PHIValue so detect/ handles both alike.
type Value struct {
	Field    string
	Category string
	Value    string
}

// Collector gathers hits of one message or session: counts, and the first
// MaxValues values. The zero value is ready. Scanning allocates only to keep
// a value.
type Collector struct {
	Counts Counts
	Values []Value
	field  string
	text   []byte
	hitFn  func(Category, int, int)
}

// Scan scans text found in the named field.
func (c *Collector) Scan(field string, text []byte) {
	if c.hitFn == nil {
		c.hitFn = c.hit
	}
	c.field, c.text = field, text
	Scan(text, c.hitFn)
	c.text = nil
}

func (c *Collector) hit(cat Category, start, end int) {
	c.Counts.Add(cat)
	if len(c.Values) < MaxValues {
		c.Values = append(c.Values, Value{Field: c.field, Category: cat.String(), Value: string(c.text[start:end])})
	}
}

// Reset empties the collector for the next message, keeping its memory.
func (c *Collector) Reset() {
	c.Counts = Counts{}
	c.Values = c.Values[:0]
}

// Take returns the counts and a copy of the values (nil if none) and resets
// the collector, for putting into an event that outlives it.
func (c *Collector) Take() (Counts, []Value) {
	cnt := c.Counts
	var vals []Value
	if len(c.Values) > 0 {
		vals = append([]Value(nil), c.Values...)
	}
	c.Reset()
	return cnt, vals
}
