package hl7

import (
	"flag"
	"math/rand/v2"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/medtap/medtap/parsers/parser"
	"github.com/medtap/medtap/parsers/parsertest"
)

var benchBallast = flag.Int("benchballast", 64, "MiB of live heap BenchmarkBenchCapture keeps, as the pipeline does")

// benchMSS is the TCP payload per segment in the benchmark capture (MSS 1460
// less the timestamp option), the size of the pieces the pipeline feeds.
const benchMSS = 1448

// benchConversation builds n messages like those of the project's benchmark
// capture (sensor/cmd/medtap-pcaptool/hl7.go, which writes `make bench`'s
// mixed.pcap): ADT^A01, ORU^R01 and ORM^O01 of 0.6-1.5 KB with PID names
// (30% Chinese in UTF-8 with MSH-18), MRNs, GB 11643 resident IDs, phone
// numbers and addresses, PV1 with a clinician, and ORC/OBR/OBX results;
// each is MLLP-framed and followed by its ACK. Everything is synthetic.
func benchConversation(n int) (msgs, acks [][]byte) {
	r := rand.New(rand.NewPCG(1, 2))
	pick := func(l []string) string { return l[r.IntN(len(l))] }
	two := func(n int) string { return string([]byte{byte('0' + n/10%10), byte('0' + n%10)}) }
	family := []string{"张", "王", "李", "刘", "陈", "杨", "黄", "赵", "吴", "周"}
	given := []string{"伟", "芳", "娜", "秀英", "敏", "静", "磊", "洋", "勇", "艳", "杰", "军", "晓明", "丽华"}
	cnCity := []string{"北京市朝阳区建国路88号^^北京^^100022^CHN", "上海市徐汇区漕溪北路100号^^上海^^200030^CHN", "广州市天河区体育西路1号^^广州^^510620^CHN"}
	enStreet := []string{"100 SYNTHETIC RD^^SPRINGFIELD^^00000^USA", "42 EXAMPLE AVE^^TESTVILLE^^99999^USA"}
	tests := []struct{ code, name, unit, rng string }{
		{"718-7", "Hemoglobin", "g/dL", "12.0-16.0"}, {"6690-2", "Leukocytes", "10*3/uL", "4.0-10.0"},
		{"777-3", "Platelets", "10*3/uL", "150-400"}, {"2345-7", "Glucose", "mg/dL", "70-99"},
		{"2160-0", "Creatinine", "mg/dL", "0.6-1.2"}, {"2951-2", "Sodium", "mmol/L", "135-145"},
		{"2823-3", "Potassium", "mmol/L", "3.5-5.1"}, {"1742-6", "ALT", "U/L", "7-56"},
	}
	ts := "20250102030405"
	for i := 0; i < n; i++ {
		typ := pick([]string{"ADT^A01^ADT_A01", "ORU^R01^ORU_R01", "ORM^O01^ORM_O01", "ADT^A01^ADT_A01", "ORU^R01^ORU_R01"})
		chinese := r.IntN(10) < 3
		utf8 := chinese || r.IntN(5) == 0
		ctl := "MSG" + strconv.Itoa(10000001+i)
		app, fac := "SYNTH_APP_"+strconv.Itoa(i%5), "SYNTH_HOSP_"+strconv.Itoa(i%7)
		mshSeg := func(sa, sf, ra, rf, t, c string) string {
			s := "MSH|^~\\&|" + sa + "|" + sf + "|" + ra + "|" + rf + "|" + ts + "||" + t + "|" + c + "|P|2.5"
			if utf8 {
				s += "|||AL|NE|CHN|UNICODE UTF-8"
			}
			return s + "\r"
		}
		b := "\x0b" + mshSeg(app, fac, "SYNTH_LIS", "SYNTH_HOSP", typ, ctl)
		if typ[:3] == "ADT" {
			b += "EVN|A01|" + ts + "\r"
		}
		male := r.IntN(2) == 0
		birth := strconv.Itoa(1935+r.IntN(88)) + two(1+r.IntN(12)) + two(1+r.IntN(28))
		b += "PID|1||" + strconv.Itoa(100000+r.IntN(900000)) + "^^^" + fac + "^MR"
		if chinese || r.IntN(5) == 0 {
			id := []byte(pick([]string{"110101", "110105", "310104", "440305", "510107"}) + birth)
			seq := r.IntN(500) * 2
			if male {
				seq++
			}
			id = append(id, byte('0'+seq/100), byte('0'+seq/10%10), byte('0'+seq%10))
			sum := 0
			for k := 0; k < 17; k++ {
				sum += int(id[k]-'0') * residentIDWeights[k]
			}
			b += "~" + string(id) + string(residentIDCheck[sum%11]) + "^^^CHN^NNCHN"
		}
		b += "||"
		if chinese {
			b += pick(family) + "^" + pick(given)
		} else {
			b += "SYNTH^PATIENT^" + two(r.IntN(100)) + two(r.IntN(100))
		}
		b += "||" + birth + map[bool]string{true: "|M|||", false: "|F|||"}[male]
		if chinese {
			b += pick(cnCity) + "||1" + strconv.Itoa(3+r.IntN(7)) + strconv.Itoa(1000000000 + r.IntN(1000000000))[1:] // 11-digit mobile
		} else {
			b += pick(enStreet) + "||555-01" + two(r.IntN(100))
		}
		b += "^PRN^PH|||" + pick([]string{"M", "S", "W"}) + "||ACC" + strconv.Itoa(r.IntN(1e8)) + "\r"
		b += "PV1|1|" + pick([]string{"I", "O", "E"}) + "|WARD" + strconv.Itoa(1+r.IntN(9)) + "^0" + strconv.Itoa(100+r.IntN(300)) +
			"^01^" + fac + "||||" + strconv.Itoa(1000+r.IntN(9000)) + "^DOCTOR^SYNTH^^^DR|||MED||||ADM|||||VN" +
			strconv.Itoa(r.IntN(1e7)) + "||||||||||||||||||||||||||" + ts + "\r"
		switch typ[:3] {
		case "ADT":
			b += "AL1|1|DA|^PENICILLIN^SYNTH|MO|RASH\rDG1|1||R07.9^Chest pain, unspecified^I10||" + ts + "|A\r"
		case "ORU":
			ord := strconv.Itoa(r.IntN(1e7))
			b += "ORC|RE|ORD" + ord + "|FIL" + ord + "\rOBR|1|ORD" + ord + "|FIL" + ord + "|57021-8^CBC W Auto Differential panel^LN|||" + ts + "||||||||||||||||F\r"
			for k := range 3 + r.IntN(10) {
				t := tests[(k+len(ord))%len(tests)]
				b += "OBX|" + strconv.Itoa(k+1) + "|NM|" + t.code + "^" + t.name + "^LN||" + strconv.Itoa(1+r.IntN(300)) + "." +
					strconv.Itoa(r.IntN(10)) + "|" + t.unit + "|" + t.rng + "|" + pick([]string{"N", "N", "N", "H", "L"}) + "|||F|||" + ts + "\r"
			}
		case "ORM":
			ord := strconv.Itoa(r.IntN(1e7))
			b += "ORC|NW|ORD" + ord + "|||SC||^^^" + ts + "^^R\rOBR|1|ORD" + ord + "||" +
				pick([]string{"CTCHEST^CT CHEST W CONTRAST^L", "CTHEAD^CT HEAD WO CONTRAST^L", "MRKNEE^MR KNEE^L"}) + "|||" + ts +
				"||||||||" + strconv.Itoa(1000+r.IntN(9000)) + "^DOCTOR^SYNTH\r"
		}
		msgs = append(msgs, []byte(b+"\x1c\r"))
		a := "\x0b" + mshSeg("SYNTH_LIS", "SYNTH_HOSP", app, fac, "ACK^"+typ[4:7]+"^ACK", "ACK"+ctl[3:]) + "MSA|AA|" + ctl + "\r\x1c\r"
		acks = append(acks, []byte(a))
	}
	return msgs, acks
}

// BenchmarkBenchCapture feeds messages like the benchmark capture's, each
// cut in benchMSS pieces as TCP carried it and answered by its ACK, and
// reports throughput, time and allocations per message (the ACK folded in).
// "pipelined" streams 16 messages back to back, cut every benchMSS bytes
// wherever that falls, then their ACKs.
func BenchmarkBenchCapture(b *testing.B) {
	const n = 256
	msgs, acks := benchConversation(n)
	total := 0
	for i := range msgs {
		total += len(msgs[i]) + len(acks[i])
	}
	// The pipeline holds tens of MB of live buffers, so a collection comes
	// every few tens of MB allocated; a small test heap would collect every
	// 4 MB and charge the cycles' fixed cost (the binary's global roots) to
	// the parser. -benchballast=0 measures without.
	ballast := make([]byte, *benchBallast<<20)
	defer runtime.KeepAlive(ballast)
	run := func(b *testing.B, feed func(s parser.Stream, ts time.Time)) {
		em := &discard{}
		fl := parser.Flow{}
		s := Factory.New(&fl, em, nil)
		ts := synthTS
		feed(s, ts) // warm up buffers and decoders
		b.ReportAllocs()
		b.SetBytes(int64(total))
		var ms0, ms1 runtime.MemStats
		runtime.ReadMemStats(&ms0)
		cpu0 := cpuTime()
		ops := 0
		for b.Loop() {
			ts = ts.Add(time.Second)
			feed(s, ts)
			ops++
		}
		cpu := cpuTime() - cpu0
		runtime.ReadMemStats(&ms1)
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(ops*n), "ns/msg")
		// CPU time of the whole process (garbage collection on the other
		// core included), less sensitive than wall time to a busy machine.
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(ops*n), "cpu-ns/msg")
		b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/float64(ops*n), "allocs/msg")
		if em.n < n {
			b.Fatalf("%d events for %d messages", em.n, n)
		}
	}
	b.Run("acked", func(b *testing.B) {
		run(b, func(s parser.Stream, ts time.Time) {
			for i, m := range msgs {
				for len(m) > 0 {
					k := min(len(m), benchMSS)
					s.Feed(parser.ToServer, m[:k], ts)
					m = m[k:]
				}
				s.Feed(parser.ToClient, acks[i], ts)
			}
		})
	})
	// Pipelined: 16 messages back to back, then their ACKs.
	const group = 16
	var batches [][2][]byte
	for i := 0; i < n; i += group {
		var bt [2][]byte
		for j := i; j < i+group; j++ {
			bt[0] = append(bt[0], msgs[j]...)
			bt[1] = append(bt[1], acks[j]...)
		}
		batches = append(batches, bt)
	}
	b.Run("pipelined", func(b *testing.B) {
		run(b, func(s parser.Stream, ts time.Time) {
			for _, bt := range batches {
				for dir, d := range bt {
					for len(d) > 0 {
						k := min(len(d), benchMSS)
						s.Feed(parser.Direction(dir), d[:k], ts)
						d = d[k:]
					}
				}
			}
		})
	})
}

// TestBenchConversation checks the benchmark's messages are what it says:
// every message answered, with the PHI the capture's messages carry.
func TestBenchConversation(t *testing.T) {
	msgs, acks := benchConversation(64)
	var chunks [][]byte
	for i := range msgs {
		chunks = append(chunks, msgs[i], acks[i])
	}
	rec := parsertest.Replay(Factory, conv(chunks...), parsertest.Whole, nil)
	n, ids, phones, names := 0, 0, 0, 0
	size := 0
	for _, e := range rec.Events {
		m, ok := e.Body.(*Message)
		if !ok {
			t.Fatalf("unexpected event %T %+v", e, e)
		}
		if m.AckCode != "AA" {
			t.Errorf("%s: ack %q", m.ControlID, m.AckCode)
		}
		n++
		size += int(m.Bytes)
		for _, p := range m.PHI {
			switch {
			case p.Category == CatIDNumber:
				ids++
			case p.Field == "PID-13" && p.Category == CatPhone && len(p.Value) == 11:
				phones++
			case p.Field == "PID-5":
				names++
			}
		}
	}
	if n != 64 || names != 64 || ids < 15 || phones < 10 || size/n < 600 || size/n > 1500 {
		t.Errorf("%d messages of %d bytes on average, %d names, %d resident IDs, %d mobile numbers", n, size/max(n, 1), names, ids, phones)
	}
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkNumberCandidate runs the number scan's word-at-a-time filter
// over the benchmark messages.
func BenchmarkNumberCandidate(b *testing.B) {
	msgs, _ := benchConversation(64)
	var all []byte
	for _, m := range msgs {
		all = append(all, m...)
	}
	b.SetBytes(int64(len(all)))
	for b.Loop() {
		for i := 0; i < len(all); {
			j := numberCandidate(all, i, '|')
			if j < 0 {
				break
			}
			i = j + 1
			for i < len(all) && all[i] != '|' {
				i++
			}
		}
	}
}

// BenchmarkManyStreams feeds the benchmark's messages, with their ACKs, to
// many streams of one worker in turn: the cost of a stream's state having
// gone cold since its last message.
func BenchmarkManyStreams(b *testing.B) {
	const n = 256
	msgs, acks := benchConversation(n)
	for _, k := range []int{1, 64, 4096} {
		b.Run("streams="+strconv.Itoa(k), func(b *testing.B) {
			env := &parser.Env{Local: &parser.Local{}}
			ss := make([]parser.Stream, k)
			for i := range ss {
				ss[i] = Factory.New(&parser.Flow{}, &discard{}, env)
			}
			ts := synthTS
			b.ReportAllocs()
			j := 0
			for b.Loop() {
				ts = ts.Add(time.Millisecond)
				i, s := j%n, ss[j%k]
				for m := msgs[i]; len(m) > 0; {
					c := min(len(m), benchMSS)
					s.Feed(parser.ToServer, m[:c], ts)
					m = m[c:]
				}
				s.Feed(parser.ToClient, acks[i], ts)
				j++
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(j), "ns/msg")
		})
	}
}
