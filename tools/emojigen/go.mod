module github.com/cairn-ledger/cairn/tools/emojigen

go 1.26.8

require golang.org/x/image v0.47.0

require golang.org/x/text v0.43.0 // indirect
