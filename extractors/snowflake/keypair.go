package snowflake

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/pbkdf2"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"hash"
)

// parsePrivateKey reads an RSA private key for Snowflake key-pair
// authentication: PKCS#8 PEM ("PRIVATE KEY"), encrypted PKCS#8
// ("ENCRYPTED PRIVATE KEY", PBES2 with PBKDF2 and AES-CBC or 3DES-CBC, as
// `openssl pkcs8 -topk8 -v2 ...` writes) or PKCS#1 ("RSA PRIVATE KEY").
// Errors never include key material or the passphrase.
func parsePrivateKey(data []byte, passphrase string) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("not a PEM file (want a PKCS#8 private key, -----BEGIN PRIVATE KEY-----)")
	}
	var der []byte
	switch block.Type {
	case "PRIVATE KEY":
		der = block.Bytes
	case "ENCRYPTED PRIVATE KEY":
		if passphrase == "" {
			return nil, errors.New("key is encrypted: set private_key_passphrase (SNOWFLAKE_PRIVATE_KEY_PASSPHRASE)")
		}
		var err error
		if der, err = decryptPKCS8(block.Bytes, passphrase); err != nil {
			return nil, err
		}
	case "RSA PRIVATE KEY":
		if _, ok := block.Headers["Proc-Type"]; ok {
			return nil, errors.New("legacy encrypted PKCS#1 key: convert it with `openssl pkcs8 -topk8 -v2 aes256`")
		}
		k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			return nil, errors.New("bad PKCS#1 RSA key")
		}
		return k, nil
	default:
		return nil, fmt.Errorf("PEM block %q: want PRIVATE KEY or ENCRYPTED PRIVATE KEY", block.Type)
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		if block.Type == "ENCRYPTED PRIVATE KEY" {
			return nil, errors.New("wrong passphrase or corrupt key")
		}
		return nil, errors.New("bad PKCS#8 key")
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%T key: Snowflake key-pair authentication needs an RSA key", k)
	}
	return rk, nil
}

// Object identifiers of PBES2 (RFC 8018), as dotted strings so that they
// can be constants.
const (
	oidPBES2      = "1.2.840.113549.1.5.13"
	oidPBKDF2     = "1.2.840.113549.1.5.12"
	oidHMACSHA1   = "1.2.840.113549.2.7"
	oidHMACSHA256 = "1.2.840.113549.2.9"
	oidHMACSHA512 = "1.2.840.113549.2.11"
	oidAES128CBC  = "2.16.840.1.101.3.4.1.2"
	oidAES192CBC  = "2.16.840.1.101.3.4.1.22"
	oidAES256CBC  = "2.16.840.1.101.3.4.1.42"
	oidDESEDE3CBC = "1.2.840.113549.3.7"
)

type encryptedPrivateKeyInfo struct {
	Algo pkix.AlgorithmIdentifier
	Data []byte
}

type pbes2Params struct {
	KDF    pkix.AlgorithmIdentifier
	Scheme pkix.AlgorithmIdentifier
}

type pbkdf2Params struct {
	Salt      []byte
	Iter      int
	KeyLength int                      `asn1:"optional"`
	PRF       pkix.AlgorithmIdentifier `asn1:"optional"`
}

// decryptPKCS8 undoes PBES2 (RFC 8018) encryption of a PKCS#8 key.
func decryptPKCS8(der []byte, passphrase string) ([]byte, error) {
	var info encryptedPrivateKeyInfo
	if _, err := asn1.Unmarshal(der, &info); err != nil {
		return nil, errors.New("bad encrypted PKCS#8 structure")
	}
	if info.Algo.Algorithm.String() != oidPBES2 {
		return nil, fmt.Errorf("encryption %v not supported: re-encrypt with `openssl pkcs8 -topk8 -v2 aes256`", info.Algo.Algorithm)
	}
	var params pbes2Params
	if _, err := asn1.Unmarshal(info.Algo.Parameters.FullBytes, &params); err != nil {
		return nil, errors.New("bad PBES2 parameters")
	}
	if params.KDF.Algorithm.String() != oidPBKDF2 {
		return nil, fmt.Errorf("key derivation %v not supported (want PBKDF2)", params.KDF.Algorithm)
	}
	var kdf pbkdf2Params
	if _, err := asn1.Unmarshal(params.KDF.Parameters.FullBytes, &kdf); err != nil {
		return nil, errors.New("bad PBKDF2 parameters")
	}
	var prf func() hash.Hash
	switch {
	case len(kdf.PRF.Algorithm) == 0 || kdf.PRF.Algorithm.String() == oidHMACSHA1:
		prf = sha1.New
	case kdf.PRF.Algorithm.String() == oidHMACSHA256:
		prf = sha256.New
	case kdf.PRF.Algorithm.String() == oidHMACSHA512:
		prf = sha512.New
	default:
		return nil, fmt.Errorf("PBKDF2 PRF %v not supported", kdf.PRF.Algorithm)
	}
	var newCipher func([]byte) (cipher.Block, error)
	keyLen := 0
	switch s := params.Scheme.Algorithm.String(); {
	case s == oidAES128CBC:
		newCipher, keyLen = aes.NewCipher, 16
	case s == oidAES192CBC:
		newCipher, keyLen = aes.NewCipher, 24
	case s == oidAES256CBC:
		newCipher, keyLen = aes.NewCipher, 32
	case s == oidDESEDE3CBC:
		newCipher, keyLen = des.NewTripleDESCipher, 24
	default:
		return nil, fmt.Errorf("cipher %v not supported (want AES-CBC or DES-EDE3-CBC)", s)
	}
	var iv []byte
	if _, err := asn1.Unmarshal(params.Scheme.Parameters.FullBytes, &iv); err != nil {
		return nil, errors.New("bad cipher IV")
	}
	if kdf.Iter <= 0 || kdf.Iter > 10_000_000 {
		return nil, errors.New("bad PBKDF2 iteration count")
	}
	key, err := pbkdf2.Key(prf, passphrase, kdf.Salt, kdf.Iter, keyLen)
	if err != nil {
		return nil, errors.New("key derivation failed")
	}
	block, err := newCipher(key)
	if err != nil {
		return nil, errors.New("bad cipher key")
	}
	if len(iv) != block.BlockSize() || len(info.Data) == 0 || len(info.Data)%block.BlockSize() != 0 {
		return nil, errors.New("bad encrypted data length")
	}
	out := make([]byte, len(info.Data))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(out, info.Data)
	// PKCS#7 padding; a wrong passphrase almost always fails here.
	n := int(out[len(out)-1])
	if n == 0 || n > block.BlockSize() || n > len(out) {
		return nil, errors.New("wrong passphrase or corrupt key")
	}
	for _, b := range out[len(out)-n:] {
		if int(b) != n {
			return nil, errors.New("wrong passphrase or corrupt key")
		}
	}
	return out[:len(out)-n], nil
}
