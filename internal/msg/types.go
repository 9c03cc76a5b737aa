package msg

// The parts of a catalogue, one per place that prints. A field tagged
// `msg:"optional"` may be empty in a language that needs no such sentence;
// every other field must be set in every language (TestCatalogues).

// Account is the human-versus-AI account (evidence.Account): what the human
// did, what AI systems produced, what neither.
type Account struct {
	WrotePrompts       P
	WithAssistant      S
	Selections         P
	MadeSelections     S
	RecordedEdits      P
	EditsByHand        S
	AIAssistedEdits    P
	DirectedEdits      S
	Pieces             P
	AddedOwn           S
	Notes              P
	RecordedNotes      S
	DeclaredFinal      S
	Generations        P
	Candidates         P
	Produced           S
	FromInputImages    S
	MadeUnderDirection S
	Edits              P
	MadeByAIAlone      S
	Texts              P
	WrittenByAI        S
	Prompts            P
	CoWritten          S
	Files              P
	ItThem             P
	UnknownFiles       S
	Changes            P
	UnknownChanges     S
	OneOf              S
	MoreChosen         S
}

// Draft is the draft wording for a US Copyright Office application
// (evidence.CopyrightDraft).
type Draft struct {
	NoFinal            S
	Selection          S
	RecordedSelections P
	Choosing           P
	Arrangement        S
	Elements           P
	ByHand             S
	InAssistedEdit     S
	ModifiedByHand     S
	ModifiedAssisted   S
	OwnMaterial        S
	UseNotRecorded     S
	UsedAsComponent    S
	ThirdPartyUnused   S
	NotRecorded        S
	NoAuthorship       S
	EditWith           S
	Instruction        S
	Note               S
	NoDirection        S
	AnAITool           S
	Images             P
	Generated          S
	GeneratedFrom      S
	Share              S
	OnlyCandidate      S
	ExcludedGeneration S
	ExcludedAssisted   S
	ExcludedByAI       S
	UnknownChange      S
	ThirdParty         S
	FileAI             S
	FileUnknown        S
	MakingNotRecorded  S
}

// Rights says what a basis of rights means (evidence.BasisMeaning).
type Rights struct {
	Employment         S
	Commission         S
	CommissionContract S
	Assignment         S
	AssignmentContract S
	Own                S
	Other              S
	NotRecorded        S
}

// Label is the AI Act disclosure (evidence.Disclose) and what cairn label
// prints beside it.
type Label struct {
	// Classes are the short labels, by disclosure class.
	Classes       map[string]S
	AnAITool      S
	Generations   P
	HandEdits     P
	OwnSketches   P
	DirectedEdits P
	WithTools     S
	Chose         S
	Selections    P
	AIEdits       P
	AIGenerated   S
	AIAssisted    S
	AIDirected    S
	HumanWithAI   S
	AIElements    S
	Unknown       S
	Human         S
	// What cairn label prints under the label.
	SourceType    S
	SourceUnknown S
	DataMining    S
	TDMDefault    S
	Wrote         S
}

// Pack is the evidence pack's cover, account, rights and design-right pages,
// its footer and its metadata.
type Pack struct {
	DocTitle       S
	Reason         S
	BundleDesc     S
	StoredFileDesc S
	FooterPack     S
	Page           S
	Replaced       S
	CoverMark      S
	Title          S
	Subtitle       S
	Asset          S
	TitleField     S
	KindOfWork     S
	RightsHolder   S
	BasisOfRights  S
	Contract       S
	NotRecorded    S
	Authors        S
	Warning        S
	NameClash      S
	Period         S
	FromTo         S
	Steps          P
	Exported       S
	ExportedAt     S
	SignedBy       S
	Custodian      S
	// CACustodian and CAAuthor are the exporter's line for a PDF signed with
	// a CA-issued certificate (export --sign-with): by a custodian, or by an
	// author whose records name her own key.
	CACustodian S
	CAAuthor    S
	Unnamed     S
	UnnamedKey  S
	AuthorLine  S
	Anchored    S
	AnchorValue S
	TrustedTime S
	Timestamp   S
	NoTimestamp S
	// NoTimestampSig replaces NoTimestamp when the PDF's signature is
	// timestamped; SignatureTimestamp is added to the trusted-time text then.
	NoTimestampSig     S
	SignatureTimestamp S
	WitnessSawAll      S
	TSAChecked         S
	TSANotChecked      S
	AllCovered         S
	LaterRecords       P
	SomeCovered        S
	WitnessCosigned    S
	FinalWork          S
	FileTypeSize       S
	UnknownType        S
	FileSHA            S
	AnyCopy            S
	Attached           S
	NoFinal            S
	About              S
	AboutText          S

	Human         S
	HumanIntro    S
	WhatHuman     S
	NoHuman       S
	WhatAI        S
	NoAI          S
	Neither       S
	StepsOverTime S

	PromptsWritten   S
	PromptsValue     S
	Generations      S
	Producing        S
	FromInput        S
	Selections       S
	SelectionsValue  S
	None             S
	AndMore          S
	EditsByHand      S
	EditsByHandValue S
	AIAssisted       S
	AIAssistedValue  S
	EditsByAI        S
	EditsUnknown     S
	NeitherValue     S
	Sketches         S
	Inputs           S
	InputsValue      S
	UnknownFiles     S
	Notes            S
	Retracted        S
	RetractedValue   S
	Retractions      P
	ByActor          S
	ByActorValue     S
	Captured         S
	CapturedValue    S
	TimeSpan         S
	Tools            S
	Models           S
	SourceType       S
	SourceUnknown    S
	SourceKnown      S

	DraftHeading S
	DraftIntro   S
	// DraftLanguage says in which language an application is made, where
	// the pack is in another.
	DraftLanguage S `msg:"optional"`
	DraftCaveat   S
	Authored      S
	Exclude       S
	NoAIMaterial  S
	NotClaimed    S
	PromptsNote   P

	LessThanSecond S
	Seconds        P
	Minutes        P
	Hours          S
	Days           S

	InputsTitle       S
	Rights            S
	Basis             S
	TDMLabel          S
	TDMProhibited     S
	TDMAllowed        S
	ThirdParty        S
	Recorded          S
	Source            S
	Licence           S
	Permission        S
	PermissionUnknown S
	Use               S
	UseComponent      S
	UseReference      S
	NoInputs          S
	SHA256            S

	DesignDates       S
	NoDisclosure      S
	DisclosedRecorded S
	Declared          S
	NotYet            S
	Disclosure        S
	DeadlinesRun      S
	DeadlinesFrom     S
	OfRecorded        S
	FilingDeadline    S
	FilingValue       S
	UnregisteredEnds  S
	UnregisteredValue S
	DatesNote         S
}

// Timeline is the pack's timeline of steps and its chart.
type Timeline struct {
	Title          S
	Intro          S
	ClockUTC       S
	ClockZone      S
	IntroRest      S
	CapturedFrom   S
	Entered        S
	InFinal        S
	Retracted      S
	RetractedBy    S
	ToolModel      S
	ToolIs         S
	ModelIs        S
	Parameters     S
	InputImages    P
	Generated      P
	Chose          S
	KindOfEdit     S
	Instruction    S
	Placed         S
	Origin         S
	OriginUnknown  S
	DisclosedOn    S
	Note           S
	DeclaredEarly  S
	Retracts       S
	Text           S
	Why            S
	CapturedValues S
	ClaimedTime    S
	RecordLine     S
	EditByHand     S
	EditAssisted   S
	EditByAI       S
	EditUnknown    S
	RetractTarget  S
	RetractOther   S
	Chosen         S
	Before         S
	After          S
	NotStated      S
	ChartOne       P
	ChartSlots     S
}

// Proof is the pack's pages on time, history and integrity: checkpoints,
// attestations, keys, and how to check the pack.
type Proof struct {
	TimeHistory       S
	NoAttestation     S
	AttestIntro       S
	CheckpointOf      S
	TheAnchor         S
	Root              S
	TokenChecked      S
	TokenNotChecked   S
	TimestampValue    S
	Witness           S
	WitnessChecked    S
	WitnessUnchecked  S
	Consistency       S
	ConsistencyAnchor S
	ConsistencyProof  S
	TSARoots          S
	TSARootsNote      S

	Title           S
	TheCheckpoint   S
	CheckpointIntro S
	PublicKeys      S
	IdentityRecord  S
	Ed25519         S
	CheckpointKey   S
	CertSHA         S
	Rotation        S
	RotationNote    S
	P256Note        S
	CANote          S // P256Note for a CA-issued signing certificate
	WhatProves      S
	Proves          []S
	ClockNote       S
	WithoutCairn    S
	// The steps of checking without cairn: SignatureCheck, the first five of
	// Checks, BindingCheck, then the rest of Checks. The CA and Custodian
	// forms replace the two for a CA-issued or a custodian's certificate.
	SignatureCheck        S
	CASignatureCheck      S
	Checks                []S
	BindingCheck          S
	CABindingCheck        S
	CustodianBindingCheck S
	Holds                 S
	Records               P
	IdentityRecords       P
}

// Similarity is the pack's section on recorded similarity checks (cairn match
// --against DIR --record).
type Similarity struct {
	Section         S
	Intro           S
	Heading         S
	Compared        S
	Against         S
	ReferenceImages P
	ReferenceSet    S
	Result          S
	Clear           S
	Lookalikes      P // formatted with the count, the threshold, the nearest distance
	LookAlike       S
	LookAlikeLine   S
	More            S
	When            S
	NoTrustedTime   S
	TSATime         S
	WitnessTime     S
	Method          S
	MethodLine      S
	Note            S
	// Role names what an earlier record made of a compared file, by
	// evidence.FileRoles.
	Role map[string]S
}
