package main

// Stand-in files for what a configuration reads from mounted Secrets, in the format each file
// must have, so `causeway check-config` checks the rendered configuration as the pod would read
// it: a TLS certificate and its key (generated here, self-signed), encryption key sets (ID:HEX
// lines) and everything else as one line of text.

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"strings"
	"time"
)

var standInKey, standInCert = selfSigned()

func selfSigned() (string, string) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	template := x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "causeway-chart-check"},
		DNSNames:     []string{"localhost"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, &template, &template, &key.PublicKey, key)
	if err != nil {
		panic(err)
	}
	keyDer, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		panic(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDer})),
		string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

// standInContent is what the file at `path` holds for check-config; `config` tells by the key
// that names the path what it must be.
func standInContent(config, path string) string {
	switch {
	case strings.Contains(config, "cert_file: "+path) || strings.HasSuffix(path, ".crt"):
		return standInCert
	case strings.Contains(config, "key_file: "+path) && strings.HasSuffix(path, ".key"):
		return standInKey
	case strings.Contains(config, "key_file: "+path):
		return "stand-in:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n"
	default:
		return "stand-in-secret-0123456789abcdef0123456789abcdef\n"
	}
}
