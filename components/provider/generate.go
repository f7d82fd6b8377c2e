package provider

//go:generate go run ./internal/godocs/cmd
