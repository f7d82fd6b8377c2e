package sqlfuncs

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
)

// SCRAMIterations is the iteration count PostgreSQL uses by default.
const SCRAMIterations = 4096

// SCRAMVerifier computes the SCRAM-SHA-256 verifier PostgreSQL stores for
// password, so create_role never sees the cleartext. A fresh random salt is
// used each time.
func SCRAMVerifier(password string) (string, error) {
	if password == "" {
		return "", fmt.Errorf("scram verifier: empty password")
	}
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("scram verifier: %w", err)
	}
	return scramVerifier(password, salt)
}

// StableSCRAMVerifier is the verifier of role's password with a salt derived
// from key, role and password (an HMAC keyed by key), so the same inputs
// always give the same verifier: a stack can declare a role's password as its
// verifier without a change on every run, and the statements that set it
// (CREATE/ALTER ROLE … PASSWORD, logged in full by log_statement or a
// failure) never hold the cleartext. The key must be a secret that the
// password alone does not give: PostgreSQL sends a role's salt to any client
// before it logs in, and a salt computed from the password alone would let
// anyone test guesses offline with one HMAC each.
func StableSCRAMVerifier(key, role, password string) (string, error) {
	if password == "" {
		return "", fmt.Errorf("scram verifier for %s: empty password", role)
	}
	if len(key) < 16 {
		return "", fmt.Errorf("scram verifier for %s: the salt key is shorter than 16 bytes", role)
	}
	salt := hmacSHA256([]byte(key), "deployer scram salt\x00"+role+"\x00"+password)[:16]
	return scramVerifier(password, salt)
}

func scramVerifier(password string, salt []byte) (string, error) {
	salted, err := pbkdf2.Key(sha256.New, password, salt, SCRAMIterations, sha256.Size)
	if err != nil {
		return "", fmt.Errorf("scram verifier: %w", err)
	}
	clientKey := hmacSHA256(salted, "Client Key")
	storedKey := sha256.Sum256(clientKey)
	serverKey := hmacSHA256(salted, "Server Key")
	b64 := base64.StdEncoding.EncodeToString
	return fmt.Sprintf("SCRAM-SHA-256$%d:%s$%s:%s", SCRAMIterations, b64(salt), b64(storedKey[:]), b64(serverKey)), nil
}

func hmacSHA256(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}
