package sigv4

import "time"

// CheckScope reports whether the credential scope names the given region and
// service, ends in aws4_request, and carries the date of the request time.
// All problems found are reported in one KindScope error, in AWS's words and
// order, e.g. "Credential should be scoped to a valid region, not 'x'. ".
func (a *Auth) CheckScope(region, service string) error {
	var parts []string
	if a.Region != region {
		parts = append(parts, "Credential should be scoped to a valid region, not '"+echo(a.Region)+"'. ")
	}
	if a.Service != service {
		parts = append(parts, "Credential should be scoped to correct service: '"+service+"'. ")
	}
	if a.term != terminator {
		parts = append(parts, "Credential should be scoped with a valid terminator: '"+terminator+"', not '"+echo(a.term)+"'. ")
	}
	if msg := a.dateMismatch(); msg != "" {
		parts = append(parts, msg)
	}
	if len(parts) == 0 {
		return nil
	}
	return newError(KindScope, joinMessages(parts))
}

// dateMismatch returns AWS's message when the scope's date is not the date of
// the request time, or "".
func (a *Auth) dateMismatch() string {
	if len(a.amzDate) >= 8 && a.Date == a.amzDate[:8] {
		return ""
	}
	d := ""
	if len(a.amzDate) >= 8 {
		d = a.amzDate[:8]
	}
	return "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '" +
		echo(a.Date) + "' != '" + d + "', from '" + a.amzDate + "'."
}

// CheckTime reports whether the request time is acceptable at now: within
// MaxSkew of now either way; for a presigned request with X-Amz-Expires, not
// more than MaxSkew in the future and not older than X-Amz-Expires. A
// presigned request without X-Amz-Expires (the Go SDK's presigned STS
// requests) gets the 15-minute window. Errors are KindExpired (and
// KindIncomplete for an X-Amz-Expires beyond 7 days).
func (a *Auth) CheckTime(now time.Time) error {
	now = now.UTC().Truncate(time.Second)
	t := a.Time.UTC()
	if t.After(now.Add(MaxSkew)) {
		return errNotYetCurrent(t, now, MaxSkew)
	}
	window := MaxSkew
	if a.Presigned && a.hasExpires {
		if a.Expires < 0 || a.Expires > MaxExpires {
			return errExpires("X-Amz-Expires must be less than a week (in seconds) that is 604800")
		}
		window = a.Expires
	}
	if t.Before(now.Add(-window)) {
		return errExpired(t, now, window)
	}
	return nil
}
