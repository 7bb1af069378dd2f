package dicom

import "time"

// Limits. Every length read from the wire is checked against the bytes
// present and against one of these before it is used; hitting one emits an
// anomaly and the parser skips in sync or resynchronises. Nothing is ever
// allocated to a size the wire declares.
const (
	// pduHeaderLen is the PDU header: type, reserved, 4-byte length (PS3.8 9.3).
	pduHeaderLen = 6
	// pdvHeaderLen is a P-DATA-TF PDV item header: 4-byte item length,
	// presentation context id, message control header (PS3.8 9.3.5.1).
	pdvHeaderLen = 6

	// maxAssociatePDULength bounds the A-ASSOCIATE-RQ/AC PDUs, which are
	// buffered whole to be decoded. DCMTK proposing all ~120 storage SOP
	// classes sends about 14 KiB; a SAML or JWT user identity adds a few KiB.
	// A longer one is pdu_too_long and skipped in sync.
	maxAssociatePDULength = 256 << 10
	// minAssociatePDULength is the fixed part of A-ASSOCIATE-RQ/AC: version,
	// reserved, two AE titles and 32 reserved bytes.
	minAssociatePDULength = 68
	// maxPDataPDULength bounds a P-DATA-TF PDU's declared length. P-DATA is
	// never buffered (it is walked incrementally), so the cap is about
	// plausibility: the protocol allows 4 GiB but real peers negotiate at
	// most a few MiB (DCMTK's ceiling is 128 KiB). A longer PDU is
	// pdu_too_long and skipped in sync without being decoded.
	maxPDataPDULength = 16 << 20
	// maxCommandSetLength bounds one reassembled DIMSE command set (always
	// buffered, as it is tiny: 100-300 bytes in practice). A longer one is
	// command_too_long and the rest of the message is skipped.
	maxCommandSetLength = 16 << 10

	// maxValueKeep is how many bytes of one data element value are kept
	// for extraction (UIDs are 64, LO 64 characters, PN three groups of
	// 64). The rest of a longer value is skipped in sync.
	maxValueKeep = 512
	// maxArenaBytes bounds the extracted values kept per dataset (all
	// identifying attributes and PHI values together).
	maxArenaBytes = 16 << 10
	// maxPHIValues bounds the patient values kept per transaction (a
	// C-FIND with thousands of matches still keeps this many).
	maxPHIValues = 256
	// maxQueryKeys bounds the query keys kept per identifier.
	maxQueryKeys = 64
	// maxSequenceDepth bounds nesting of sequences in a dataset. Deeper
	// is sequence_too_deep: a defined-length sequence is skipped in sync,
	// an undefined-length one ends the walk of that dataset.
	maxSequenceDepth = 16

	// maxDeflateInput is how many compressed bytes of a deflated dataset
	// are kept to be inflated (the identifying attributes are at its
	// start). compress/flate cannot suspend mid-stream, so the prefix is
	// inflated once the dataset ends or this cap is reached; beyond it the
	// dataset is skipped (deflate_input_limit).
	maxDeflateInput = 256 << 10
	// maxInflateRatio and maxInflatedBytes are the inflate bomb limits:
	// inflation stops (inflate_limit) at whichever is lower, ratio times
	// the compressed input or the absolute cap.
	maxInflateRatio  = 200
	maxInflatedBytes = 64 << 20

	// maxPendingTransactions bounds requests awaiting a response per
	// association (asynchronous operations windows are small in practice).
	// The oldest is flushed as an event (too_many_pending).
	maxPendingTransactions = 128
	// maxPresentationContexts bounds the presentation contexts kept from a
	// negotiation (context ids are odd bytes, so 128 at most).
	maxPresentationContexts = 128
	// maxNegotiationItems bounds role selection and extended negotiation
	// sub-items kept per association.
	maxNegotiationItems = 64

	// resyncWindow is the most bytes a header plausibility check needs: a
	// PDU header plus a PDV item header.
	resyncWindow = pduHeaderLen + pdvHeaderLen

	// probeMinBytes is how many bytes Probe needs to decide.
	probeMinBytes = 10

	// idleTimeout keeps associations open between objects: modalities
	// hold an association open while an operator works.
	idleTimeout = 15 * time.Minute
)
