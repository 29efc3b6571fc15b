package loadgen

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strings"
)

// ReadCredentials reads profile from an AWS shared-credentials file (INI:
// "[profile]" sections with aws_access_key_id, aws_secret_access_key and
// optionally aws_session_token), such as the <data-dir>/credentials file
// coffer server writes. Errors never include the secret key.
func ReadCredentials(path, profile string) (Credentials, error) {
	if profile == "" {
		profile = "default"
	}
	f, err := os.Open(path)
	if err != nil {
		return Credentials{}, err
	}
	defer f.Close()
	var (
		c       Credentials
		section string
		found   bool
	)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
			section = strings.TrimSpace(line[1 : len(line)-1])
			section = strings.TrimSpace(strings.TrimPrefix(section, "profile "))
			if section == profile {
				found = true
			}
			continue
		}
		if section != profile {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "aws_access_key_id":
			c.AccessKeyID = v
		case "aws_secret_access_key":
			c.SecretAccessKey = v
		case "aws_session_token":
			c.SessionToken = v
		}
	}
	if err := sc.Err(); err != nil {
		return Credentials{}, fmt.Errorf("read %s: %w", path, err)
	}
	if !found {
		return Credentials{}, fmt.Errorf("%s has no profile %q", path, profile)
	}
	if c.AccessKeyID == "" || c.SecretAccessKey == "" {
		return Credentials{}, errors.New(path + ": profile " + profile + " lacks aws_access_key_id or aws_secret_access_key")
	}
	return c, nil
}
