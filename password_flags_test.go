package giotls

import "testing"

// TestPasswordFlagsGIOValues: GTlsPasswordFlags as gio/gioenums.h has them
// (the PKCS#11 ones since GIO 2.70).
func TestPasswordFlagsGIOValues(t *testing.T) {
	for _, tc := range []struct {
		flag PasswordFlags
		want uint32
	}{
		{PasswordNone, 0}, {PasswordRetry, 1 << 1}, {PasswordManyTries, 1 << 2}, {PasswordFinalTry, 1 << 3},
		{PasswordPKCS11User, 1 << 4}, {PasswordPKCS11SecurityOfficer, 1 << 5}, {PasswordPKCS11ContextSpecific, 1 << 6},
	} {
		if uint32(tc.flag) != tc.want {
			t.Errorf("flag = %d, want GIO's %d", tc.flag, tc.want)
		}
	}
}
