package dicom

import (
	"math"
	"slices"
	"strconv"

	"github.com/medtap/medtap/parsers/parser"
)

// JSON encoding of the event bodies without reflection. The pipeline uses
// AppendJSON (sensor/event.Appender) instead of encoding/json; the output is
// byte for byte what json.Marshal gives for the same value (same field
// order, omitempty rules, string escaping with HTML escaping, float format
// and sorted map keys), which TestAppendJSONMatchesMarshal checks on every
// capture's events and on randomly filled values.

// AppendJSON implements sensor/event.Appender.
func (a *Association) AppendJSON(b []byte) []byte {
	b = append(b, `{"type":`...)
	b = parser.AppendJSONString(b, a.Type)
	b = append(b, `,"calling_ae":`...)
	b = parser.AppendJSONString(b, a.CallingAE)
	b = append(b, `,"called_ae":`...)
	b = parser.AppendJSONString(b, a.CalledAE)
	b = append(b, `,"result":`...)
	b = parser.AppendJSONString(b, a.Result)
	b = parser.AppendJSONOptField(b, `,"close_reason":`, a.CloseReason)
	b = optUint(b, `,"protocol_version":`, uint64(a.ProtocolVersion))
	b = parser.AppendJSONOptField(b, `,"application_context":`, a.ApplicationContext)
	if len(a.PresentationContexts) > 0 {
		b = append(b, `,"presentation_contexts":[`...)
		for i := range a.PresentationContexts {
			if i > 0 {
				b = append(b, ',')
			}
			b = a.PresentationContexts[i].appendJSON(b)
		}
		b = append(b, ']')
	}
	b = append(b, `,"max_pdu_length":`...)
	b = strconv.AppendUint(b, uint64(a.MaxPDULength), 10)
	b = parser.AppendJSONOptField(b, `,"implementation_class_uid":`, a.ImplementationClassUID)
	b = parser.AppendJSONOptField(b, `,"implementation_version_name":`, a.ImplementationVersionName)
	b = optUint(b, `,"acceptor_max_pdu_length":`, uint64(a.AcceptorMaxPDULength))
	b = parser.AppendJSONOptField(b, `,"acceptor_implementation_class_uid":`, a.AcceptorImplementationClassUID)
	b = parser.AppendJSONOptField(b, `,"acceptor_implementation_version_name":`, a.AcceptorImplementationVersionName)
	if o := a.AsyncOps; o != nil {
		b = append(b, `,"async_ops":{"invoked":`...)
		b = strconv.AppendUint(b, uint64(o.Invoked), 10)
		b = append(b, `,"performed":`...)
		b = strconv.AppendUint(b, uint64(o.Performed), 10)
		b = optUint(b, `,"acceptor_invoked":`, uint64(o.AcceptorInvoked))
		b = optUint(b, `,"acceptor_performed":`, uint64(o.AcceptorPerformed))
		b = append(b, `,"accepted":`...)
		b = strconv.AppendBool(b, o.Accepted)
		b = append(b, '}')
	}
	if len(a.RoleSelection) > 0 {
		b = append(b, `,"role_selection":[`...)
		for i, r := range a.RoleSelection {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"sop_class_uid":`...)
			b = parser.AppendJSONString(b, r.SOPClassUID)
			b = append(b, `,"source":`...)
			b = parser.AppendJSONString(b, r.Source)
			b = append(b, `,"scu_role":`...)
			b = strconv.AppendUint(b, uint64(r.SCURole), 10)
			b = append(b, `,"scp_role":`...)
			b = strconv.AppendUint(b, uint64(r.SCPRole), 10)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	if len(a.ExtendedNegotiation) > 0 {
		b = append(b, `,"extended_negotiation":[`...)
		for i, e := range a.ExtendedNegotiation {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"sop_class_uid":`...)
			b = parser.AppendJSONString(b, e.SOPClassUID)
			b = append(b, `,"source":`...)
			b = parser.AppendJSONString(b, e.Source)
			if e.Common {
				b = append(b, `,"common":true`...)
			}
			b = parser.AppendJSONOptField(b, `,"service_class_uid":`, e.ServiceClassUID)
			b = append(b, `,"info_length":`...)
			b = strconv.AppendInt(b, int64(e.InfoLength), 10)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	if u := a.UserIdentity; u != nil {
		b = append(b, `,"user_identity":{"type":`...)
		b = strconv.AppendUint(b, uint64(u.Type), 10)
		b = append(b, `,"type_name":`...)
		b = parser.AppendJSONString(b, u.TypeName)
		b = append(b, `,"positive_response_requested":`...)
		b = strconv.AppendBool(b, u.PositiveResponseRequested)
		b = append(b, `,"username_in_clear":`...)
		b = strconv.AppendBool(b, u.UsernameInClear)
		b = append(b, `,"passcode_present":`...)
		b = strconv.AppendBool(b, u.PasscodePresent)
		b = append(b, `,"primary_field_length":`...)
		b = strconv.AppendInt(b, int64(u.PrimaryFieldLength), 10)
		b = append(b, `,"server_response":`...)
		b = strconv.AppendBool(b, u.ServerResponse)
		b = optInt(b, `,"server_response_length":`, int64(u.ServerResponseLength))
		b = append(b, '}') // Username is never serialised
	}
	if r := a.Reject; r != nil {
		b = append(b, `,"reject":{"result":`...)
		b = parser.AppendJSONString(b, r.Result)
		b = append(b, `,"source":`...)
		b = parser.AppendJSONString(b, r.Source)
		b = append(b, `,"reason":`...)
		b = parser.AppendJSONString(b, r.Reason)
		b = append(b, '}')
	}
	if ab := a.Abort; ab != nil {
		b = append(b, `,"abort":{"direction":`...)
		b = parser.AppendJSONString(b, ab.Direction)
		b = append(b, `,"source":`...)
		b = parser.AppendJSONString(b, ab.Source)
		b = parser.AppendJSONOptField(b, `,"reason":`, ab.Reason)
		b = append(b, '}')
	}
	b = append(b, `,"pdus_to_server":`...)
	b = strconv.AppendInt(b, a.PDUsToServer, 10)
	b = append(b, `,"pdus_to_client":`...)
	b = strconv.AppendInt(b, a.PDUsToClient, 10)
	b = append(b, `,"pdata_bytes_to_server":`...)
	b = strconv.AppendInt(b, a.PDataBytesToServer, 10)
	b = append(b, `,"pdata_bytes_to_client":`...)
	b = strconv.AppendInt(b, a.PDataBytesToClient, 10)
	if len(a.DIMSECounts) > 0 {
		b = append(b, `,"dimse_counts":{`...)
		var buf [16]string
		keys := buf[:0]
		for k := range a.DIMSECounts {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = parser.AppendJSONString(b, k)
			b = append(b, ':')
			b = strconv.AppendInt(b, int64(a.DIMSECounts[k]), 10)
		}
		b = append(b, '}')
	}
	b = optInt(b, `,"gaps":`, int64(a.Gaps))
	b = optInt(b, `,"anomalies":`, int64(a.Anomalies))
	b = append(b, `,"duration":`...)
	b = jsonFloat(b, a.Duration)
	return append(b, '}')
}

func (pc *PresentationContext) appendJSON(b []byte) []byte {
	b = append(b, `{"id":`...)
	b = strconv.AppendUint(b, uint64(pc.ID), 10)
	b = parser.AppendJSONOptField(b, `,"abstract_syntax":`, pc.AbstractSyntax)
	b = optStrings(b, `,"transfer_syntaxes":`, pc.TransferSyntaxes)
	b = parser.AppendJSONOptField(b, `,"accepted_transfer_syntax":`, pc.AcceptedTransferSyntax)
	b = parser.AppendJSONOptField(b, `,"result":`, pc.Result)
	b = parser.AppendJSONOptField(b, `,"reason":`, pc.Reason)
	return append(b, '}')
}

// AppendJSON implements sensor/event.Appender.
func (d *DIMSE) AppendJSON(b []byte) []byte {
	b = append(b, `{"type":`...)
	b = parser.AppendJSONString(b, d.Type)
	b = append(b, `,"command":`...)
	b = parser.AppendJSONString(b, d.Command)
	b = append(b, `,"request_direction":`...)
	b = parser.AppendJSONString(b, d.RequestDirection)
	b = append(b, `,"message_id":`...)
	b = strconv.AppendUint(b, uint64(d.MessageID), 10)
	b = parser.AppendJSONOptField(b, `,"sop_class_uid":`, d.SOPClassUID)
	b = parser.AppendJSONOptField(b, `,"sop_instance_uid":`, d.SOPInstanceUID)
	b = parser.AppendJSONOptField(b, `,"priority":`, d.Priority)
	b = parser.AppendJSONOptField(b, `,"status":`, d.Status)
	b = append(b, `,"status_class":`...)
	b = parser.AppendJSONString(b, d.StatusClass)
	b = parser.AppendJSONOptField(b, `,"move_destination":`, d.MoveDestination)
	b = parser.AppendJSONOptField(b, `,"move_originator_ae":`, d.MoveOriginatorAE)
	if d.EventTypeID != nil {
		b = append(b, `,"event_type_id":`...)
		b = strconv.AppendUint(b, uint64(*d.EventTypeID), 10)
	}
	if d.ActionTypeID != nil {
		b = append(b, `,"action_type_id":`...)
		b = strconv.AppendUint(b, uint64(*d.ActionTypeID), 10)
	}
	if d.ErrorComment {
		b = append(b, `,"error_comment":true`...)
	}
	if so := d.SubOperations; so != nil {
		b = append(b, `,"sub_operations":{`...)
		if so.Remaining != nil {
			b = append(b, `"remaining":`...)
			b = strconv.AppendUint(b, uint64(*so.Remaining), 10)
			b = append(b, ',')
		}
		b = append(b, `"completed":`...)
		b = strconv.AppendUint(b, uint64(so.Completed), 10)
		b = append(b, `,"failed":`...)
		b = strconv.AppendUint(b, uint64(so.Failed), 10)
		b = append(b, `,"warning":`...)
		b = strconv.AppendUint(b, uint64(so.Warning), 10)
		b = append(b, '}')
	}
	b = optInt(b, `,"pending_responses":`, int64(d.PendingResponses))
	if d.Cancelled {
		b = append(b, `,"cancelled":true`...)
	}
	b = append(b, `,"presentation_context_id":`...)
	b = strconv.AppendUint(b, uint64(d.PresentationContextID), 10)
	b = parser.AppendJSONOptField(b, `,"abstract_syntax":`, d.AbstractSyntax)
	b = parser.AppendJSONOptField(b, `,"transfer_syntax":`, d.TransferSyntax)
	b = append(b, `,"dataset_bytes":`...)
	b = strconv.AppendInt(b, d.DatasetBytes, 10)
	b = append(b, `,"response_dataset_bytes":`...)
	b = strconv.AppendInt(b, d.ResponseDatasetBytes, 10)
	b = append(b, `,"latency":`...)
	b = jsonFloat(b, d.Latency)
	b = parser.AppendJSONOptField(b, `,"modality":`, d.Modality)
	b = parser.AppendJSONOptField(b, `,"body_part_examined":`, d.BodyPartExamined)
	b = parser.AppendJSONOptField(b, `,"manufacturer":`, d.Manufacturer)
	b = parser.AppendJSONOptField(b, `,"model":`, d.Model)
	b = parser.AppendJSONOptField(b, `,"device_serial_number":`, d.DeviceSerialNumber)
	b = parser.AppendJSONOptField(b, `,"software_versions":`, d.SoftwareVersions)
	b = parser.AppendJSONOptField(b, `,"station_name":`, d.StationName)
	b = parser.AppendJSONOptField(b, `,"institution_name":`, d.InstitutionName)
	b = parser.AppendJSONOptField(b, `,"study_instance_uid":`, d.StudyInstanceUID)
	b = parser.AppendJSONOptField(b, `,"series_instance_uid":`, d.SeriesInstanceUID)
	b = parser.AppendJSONOptField(b, `,"dataset_sop_instance_uid":`, d.DatasetSOPInstanceID)
	b = parser.AppendJSONOptField(b, `,"specific_character_set":`, d.SpecificCharacterSet)
	b = parser.AppendJSONOptField(b, `,"query_retrieve_level":`, d.QueryRetrieveLevel)
	b = optStrings(b, `,"query_keys":`, d.QueryKeys)
	b = optStrings(b, `,"phi_categories":`, d.PHICategories)
	b = optStrings(b, `,"phi_tags":`, d.PHITags)
	b = append(b, `,"patient_identity_removed":`...)
	b = strconv.AppendBool(b, d.PatientIdentityRemoved)
	b = append(b, `,"private_tags":`...)
	b = strconv.AppendInt(b, int64(d.PrivateTags), 10)
	if d.Incomplete {
		b = append(b, `,"incomplete":true`...)
	}
	if d.Unpaired {
		b = append(b, `,"unpaired":true`...)
	}
	if d.Gap {
		b = append(b, `,"gap":true`...)
	}
	return append(b, '}') // PHI is never serialised
}

func optStrings(b []byte, key string, v []string) []byte {
	if len(v) == 0 {
		return b
	}
	b = append(b, key...)
	b = append(b, '[')
	for i, s := range v {
		if i > 0 {
			b = append(b, ',')
		}
		b = parser.AppendJSONString(b, s)
	}
	return append(b, ']')
}

func optUint(b []byte, key string, v uint64) []byte {
	if v == 0 {
		return b
	}
	b = append(b, key...)
	return strconv.AppendUint(b, v, 10)
}

func optInt(b []byte, key string, v int64) []byte {
	if v == 0 {
		return b
	}
	b = append(b, key...)
	return strconv.AppendInt(b, v, 10)
}

// jsonFloat formats like encoding/json: ES6 number to string, 'e' form only
// below 1e-6 or from 1e21, exponent without a leading zero. NaN and Inf,
// which json.Marshal refuses, are written as 0 (durations and latencies are
// differences of finite times and never are).
func jsonFloat(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, '0')
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}
