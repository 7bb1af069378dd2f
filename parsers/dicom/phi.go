package dicom

// Well-known tags, as group<<16 | element.
const (
	tagSpecificCharacterSet   = 0x00080005
	tagSOPInstanceUID         = 0x00080018
	tagQueryRetrieveLevel     = 0x00080052
	tagModality               = 0x00080060
	tagBodyPartExamined       = 0x00180015
	tagManufacturer           = 0x00080070
	tagInstitutionName        = 0x00080080
	tagStationName            = 0x00081010
	tagModelName              = 0x00081090
	tagPatientIdentityRemoved = 0x00120062
	tagDeviceSerialNumber     = 0x00181000
	tagSoftwareVersions       = 0x00181020
	tagStudyInstanceUID       = 0x0020000d
	tagSeriesInstanceUID      = 0x0020000e
	tagPixelData              = 0x7fe00010
	tagItem                   = 0xfffee000
	tagItemDelim              = 0xfffee00d
	tagSeqDelim               = 0xfffee0dd
)

// Identifying attributes kept from a dataset's top level.
const (
	idCharset = iota
	idModality
	idBodyPart
	idManufacturer
	idModel
	idSerial
	idSoftware
	idStation
	idInstitution
	idStudy
	idSeries
	idSOPInstance
	idQRLevel
	idIdentityRemoved
	numIdent
)

// identField maps a top-level tag to its identifying attribute, -1 if none.
func identField(t uint32) int {
	switch t {
	case tagSpecificCharacterSet:
		return idCharset
	case tagModality:
		return idModality
	case tagBodyPartExamined:
		return idBodyPart
	case tagManufacturer:
		return idManufacturer
	case tagModelName:
		return idModel
	case tagDeviceSerialNumber:
		return idSerial
	case tagSoftwareVersions:
		return idSoftware
	case tagStationName:
		return idStation
	case tagInstitutionName:
		return idInstitution
	case tagStudyInstanceUID:
		return idStudy
	case tagSeriesInstanceUID:
		return idSeries
	case tagSOPInstanceUID:
		return idSOPInstance
	case tagQueryRetrieveLevel:
		return idQRLevel
	case tagPatientIdentityRemoved:
		return idIdentityRemoved
	}
	return -1
}

// PHI categories: a closed set, stable names (PHICategoryNames). Zero is
// "not PHI".
const (
	phiNone uint8 = iota
	phiName
	phiID
	phiBirthDate
	phiSex
	phiAge
	phiAddress
	phiPhone
	phiOtherPatient
	phiInsurance
	phiEthnicGroup
	phiOccupation
	phiReligion
	phiHealth
	phiComments
	phiStaffName
	phiOther
	numPHICategories
)

// PHICategoryNames are the names used in phi_categories, indexed by
// category number. The set is closed: rules may switch on these names.
var PHICategoryNames = [numPHICategories]string{
	"", "name", "id", "birth_date", "sex", "age", "address", "phone",
	"other_patient", "insurance", "ethnic_group", "occupation", "religion",
	"health", "comments", "staff_name", "other",
}

// phiCategory classifies a tag as patient information. Group 0010 (the
// Patient module and its relatives) is PHI throughout (other for tags not
// listed); a few tags of other groups identify the patient or a person.
func phiCategory(t uint32) uint8 {
	switch t {
	case 0x00100010, // PatientName
		0x00101005, // PatientBirthName
		0x00101060, // PatientMotherBirthName
		0x00102297: // ResponsiblePerson
		return phiName
	case 0x00100020, // PatientID
		0x00101090, // MedicalRecordLocator
		0x00380010, // AdmissionID
		0x00080050: // AccessionNumber
		return phiID
	case 0x00100030, 0x00100032: // PatientBirthDate, PatientBirthTime
		return phiBirthDate
	case 0x00100040: // PatientSex
		return phiSex
	case 0x00101010: // PatientAge
		return phiAge
	case 0x00101040, // PatientAddress
		0x00102150, // CountryOfResidence
		0x00102152: // RegionOfResidence
		return phiAddress
	case 0x00102154, 0x00102155: // PatientTelephoneNumbers, PatientTelecomInformation
		return phiPhone
	case 0x00101000, // OtherPatientIDs
		0x00101001, // OtherPatientNames
		0x00101002: // OtherPatientIDsSequence
		return phiOtherPatient
	case 0x00100050, // PatientInsurancePlanCodeSequence
		0x00101050: // InsurancePlanIdentification
		return phiInsurance
	case 0x00102160: // EthnicGroup
		return phiEthnicGroup
	case 0x00102180: // Occupation
		return phiOccupation
	case 0x001021f0: // PatientReligiousPreference
		return phiReligion
	case 0x00102000, // MedicalAlerts
		0x00102110, // Allergies
		0x001021a0, // SmokingStatus
		0x001021b0, // AdditionalPatientHistory
		0x001021c0, // PregnancyStatus
		0x00380500: // PatientState
		return phiHealth
	case 0x00104000: // PatientComments
		return phiComments
	case 0x00080090, // ReferringPhysicianName
		0x00081050, // PerformingPhysicianName
		0x00081060, // NameOfPhysiciansReadingStudy
		0x00081070, // OperatorsName
		0x00321032: // RequestingPhysician
		return phiStaffName
	}
	if t>>16 == 0x0010 && t&0xffff != 0 { // any other Patient module attribute
		return phiOther
	}
	return phiNone
}
