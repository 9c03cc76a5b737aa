package archive

// The external tests (package archive_test, which may import evidence) reach
// the manifest parser through these.
var ParseManifest = parseManifest
