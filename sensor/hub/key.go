package hub

import "fmt"

// keyString prints a key for ordering.
func keyString[K comparable](k K) string {
	switch v := any(k).(type) {
	case string:
		return v
	}
	return fmt.Sprintf("%v", k)
}
