package aws

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/postgis-platform/deployer/internal/standin"
)

// managedPasswordChars are the characters of a managed master password:
// printable ASCII without those the RDS User Guide refuses in a master
// password ('/', "'", '"', '@' and space).
const managedPasswordChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$%&()*+,-.:;<=>?[]^_{|}~`\\"

// managedPassword is a new 28-character managed master password.
func managedPassword() string {
	b := make([]byte, 28)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = managedPasswordChars[int(b[i])%len(managedPasswordChars)]
	}
	return string(b)
}

// secretVersionKey counts a secret's versions in Cloud.Counters.
func secretVersionKey(arn string) string { return "secret-version:" + arn }

// secretVersionID is the current version's ID of the secret arn.
func secretVersionID(c *standin.Cloud, arn string) string {
	return "v" + strconv.Itoa(c.Counters[secretVersionKey(arn)]+1)
}

// RotateMasterSecret does what Secrets Manager's rotation of an RDS-managed
// master secret does (manageMasterUserPassword; every 7 days by default): a
// new password is set on the database first, so the old one stops working at
// once, then it becomes the secret's current version (a new version ID).
// setPassword sets it on the server the instance stands for. It returns the
// new version's ID, never the password.
func RotateMasterSecret(store standin.Store, id string, setPassword func(user, password string) error) (string, error) {
	var arn, user string
	err := store.View(func(c *standin.Cloud) error {
		o, ok := c.Objects[id]
		if !ok || o.Type != TypeInstance {
			return fmt.Errorf("no DB instance %s", id)
		}
		arn = masterSecretARN(o.Props)
		if _, ok := c.Secrets[arn]; arn == "" || !ok {
			return fmt.Errorf("DB instance %s has no managed master secret (manageMasterUserPassword is off)", id)
		}
		user = standin.Str(o.Props, "username")
		return nil
	})
	if err != nil {
		return "", err
	}
	pw := managedPassword()
	if err := setPassword(user, pw); err != nil {
		return "", fmt.Errorf("rotate the master password of %s: set it on the database: %w", id, err)
	}
	var version string
	err = store.Update(func(c *standin.Cloud) error {
		b, _ := json.Marshal(map[string]string{"username": user, "password": pw})
		c.Secrets[arn] = string(b)
		c.Counters[secretVersionKey(arn)]++
		version = secretVersionID(c, arn)
		return nil
	})
	return version, err
}

// masterSecretARN is the instance's managed master secret, or "".
func masterSecretARN(props map[string]any) string {
	if l, ok := props["masterUserSecrets"].([]any); ok && len(l) > 0 {
		if m, ok := l[0].(map[string]any); ok {
			return standin.Str(m, "secretArn")
		}
	}
	return ""
}

// MasterPassword is the password in the managed master secret of instance id.
func MasterPassword(c *standin.Cloud, id string) (string, error) {
	o, ok := c.Objects[id]
	if !ok || o.Type != TypeInstance {
		return "", fmt.Errorf("no DB instance %s", id)
	}
	raw, ok := c.Secrets[masterSecretARN(o.Props)]
	if !ok {
		return "", fmt.Errorf("DB instance %s has no managed master secret", id)
	}
	var v struct {
		Password string `json:"password"`
	}
	if err := json.Unmarshal([]byte(raw), &v); err != nil {
		return "", fmt.Errorf("the master secret of %s is not JSON: %w", id, err)
	}
	return v.Password, nil
}
