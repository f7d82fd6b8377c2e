package provider

//go:generate go run ./internal/godocs/cmd
//go:generate go run ./internal/sdkgen/cmd
