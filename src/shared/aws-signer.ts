/**
 * AWS Signer facts the constructs (src/) and the engine (lambda/) share: the Notation platform, the profile name
 * rule, and the Notation root certificates with the trust store names AWS's notation installer gives them.
 * Pure constants, no imports: jsii compiles this file into lib/, and the lambda bundles inline it.
 */

/** The AWS Signer platform of Notation signatures of container images. */
export const NOTATION_PLATFORM_ID = 'Notation-OCI-SHA384-ECDSA';

/** The characters of an AWS Signer profile name (AWS Signer API reference, PutSigningProfile `profileName`). */
export const SIGNING_PROFILE_NAME_CHARACTERS = '[a-zA-Z0-9_]{2,64}';
/** An AWS Signer profile name: 2 to 64 letters, digits or underscores. */
export const SIGNING_PROFILE_NAME = new RegExp(`^${SIGNING_PROFILE_NAME_CHARACTERS}$`);

/**
 * AWS Signer Notation root certificates: the trust anchors of the `signingAuthority` trust store for signatures made
 * by AWS Signer (platform `Notation-OCI-SHA384-ECDSA`). Public certificates published by AWS at
 * https://d2hvyiie56hcat.cloudfront.net/aws-signer-notation-root.cert (partition `aws`) and
 * https://d2hvyiie56hcat.cloudfront.net/aws-us-gov-signer-notation-root.cert (partition `aws-us-gov`), as copied in
 * nirmata/kyverno-notation-aws@47408fc `configs/samples/truststore.yaml`. The construct tests pin the certificate
 * fingerprints below.
 */

/**
 * `C=US, O=AWS, OU=Cryptography, ST=WA, CN=AWS Signer Code Signing Root CA G1`, EC P-384, valid 2022-10-27 to
 * 2122-10-27. Certificate (DER) SHA-256 fingerprint
 * 90:A8:7D:05:43:C3:F0:94:DB:FF:95:89:B6:64:9A:FF:E2:F3:D6:E0:F3:08:79:9B:E2:25:84:61:C6:86:47:3F.
 * SHA-256 of this PEM text plus a final newline: 6642747ee28b6bb4a75e53c613b0c751e695237d00110135c6e6ed059c11093d.
 */
export const AWS_SIGNER_ROOT_PEM = `-----BEGIN CERTIFICATE-----
MIICWTCCAd6gAwIBAgIRAMq5Lmt4rqnUdi8qM4eIGbYwCgYIKoZIzj0EAwMwbDEL
MAkGA1UEBhMCVVMxDDAKBgNVBAoMA0FXUzEVMBMGA1UECwwMQ3J5cHRvZ3JhcGh5
MQswCQYDVQQIDAJXQTErMCkGA1UEAwwiQVdTIFNpZ25lciBDb2RlIFNpZ25pbmcg
Um9vdCBDQSBHMTAgFw0yMjEwMjcyMTMzMjJaGA8yMTIyMTAyNzIyMzMyMlowbDEL
MAkGA1UEBhMCVVMxDDAKBgNVBAoMA0FXUzEVMBMGA1UECwwMQ3J5cHRvZ3JhcGh5
MQswCQYDVQQIDAJXQTErMCkGA1UEAwwiQVdTIFNpZ25lciBDb2RlIFNpZ25pbmcg
Um9vdCBDQSBHMTB2MBAGByqGSM49AgEGBSuBBAAiA2IABM9+dM9WXbVyNOIP08oN
IQW8DKKdBxP5nYNegFPLfGP0f7+0jweP8LUv1vlFZqVDep5ONus9IxwtIYBJLd36
5Q3Z44Xnm4PY/wSI5xRvB/m+/B2PHc7Smh0P5s3Dt25oVKNCMEAwDwYDVR0TAQH/
BAUwAwEB/zAdBgNVHQ4EFgQUONhd3abPX87l4YWKxjysv28QwAYwDgYDVR0PAQH/
BAQDAgGGMAoGCCqGSM49BAMDA2kAMGYCMQCd32GnYU2qFCtKjZiveGfs+gCBlPi2
Hw0zU52LXIFC2GlcvwcekbiM6w0Azlr9qvMCMQDl4+Os0yd+fVlYMuovvxh8xpjQ
NPJ9zRGyYa7+GNs64ty/Z6bzPHOKbGo4In3KKJo=
-----END CERTIFICATE-----`;

/**
 * `C=US, O=AWS, OU=Cryptography, ST=WA, CN=AWS Signer Code Signing GovCloud (US) Root CA G1`, EC P-384, valid
 * 2024-03-06 to 2124-03-07. Certificate (DER) SHA-256 fingerprint
 * 67:36:53:AB:76:F4:1A:10:54:6C:DE:B4:10:7E:CD:6D:F2:C1:5C:2C:9A:0D:32:ED:97:D2:71:B4:43:6F:C3:E8.
 * SHA-256 of this PEM text plus a final newline: ed29265902f9c2a5f90cb623f75f8e80aad624ed1bc72061539218a9f51dd070.
 */
export const AWS_US_GOV_SIGNER_ROOT_PEM = `-----BEGIN CERTIFICATE-----
MIICdDCCAfqgAwIBAgIRANXkpKrZj0L324qGaqRhW/cwCgYIKoZIzj0EAwMwejEL
MAkGA1UEBhMCVVMxDDAKBgNVBAoMA0FXUzEVMBMGA1UECwwMQ3J5cHRvZ3JhcGh5
MQswCQYDVQQIDAJXQTE5MDcGA1UEAwwwQVdTIFNpZ25lciBDb2RlIFNpZ25pbmcg
R292Q2xvdWQgKFVTKSBSb290IENBIEcxMCAXDTI0MDMwNjIzMzgyOFoYDzIxMjQw
MzA3MDAzODI4WjB6MQswCQYDVQQGEwJVUzEMMAoGA1UECgwDQVdTMRUwEwYDVQQL
DAxDcnlwdG9ncmFwaHkxCzAJBgNVBAgMAldBMTkwNwYDVQQDDDBBV1MgU2lnbmVy
IENvZGUgU2lnbmluZyBHb3ZDbG91ZCAoVVMpIFJvb3QgQ0EgRzEwdjAQBgcqhkjO
PQIBBgUrgQQAIgNiAARog54ObzWaGU6fAOcL4Af+P93l2t8Dl9hVD2n0eSSfmPq1
3jtXgjcpXZIjMfoiWQPJTvyAB3opRyvO3grvUaWxRnjtwB/Pusj4tzhnaN+b80eJ
iRn6AzrI9vBssd1ZyRKjQjBAMA8GA1UdEwEB/wQFMAMBAf8wHQYDVR0OBBYEFJF4
zoYzTyn/5s8EleoNvek9QeE6MA4GA1UdDwEB/wQEAwIBhjAKBggqhkjOPQQDAwNo
ADBlAjEA8tcKeLPxBB0mRmfkJn5+hgYxZaRGQatO5mxmjkB/DNIfJ1WeEE3tbCHr
pNJL32FUAjBQY82UNV5yJrKFHOxuiQ+athQZUHLvWvAIXKExt9wvLdtKzfpag8BI
o2A2A4nk0jk=
-----END CERTIFICATE-----`;


/** An AWS Signer trust store: its name (type `signingAuthority`) and root certificate. */
export interface AwsSignerTrustStore {
  readonly name: string;
  readonly pem: string;
}

/** The AWS Signer trust stores by partition (the names AWS's notation installer creates). */
export const AWS_SIGNER_TRUST_STORES: Readonly<Record<string, AwsSignerTrustStore>> = {
  'aws': { name: 'aws-signer-ts', pem: AWS_SIGNER_ROOT_PEM },
  'aws-us-gov': { name: 'aws-us-gov-signer-ts', pem: AWS_US_GOV_SIGNER_ROOT_PEM },
};

/** The AWS Signer trust store of a partition; undefined for a partition whose root AWS does not publish. */
export function awsSignerTrustStore(partition: string): AwsSignerTrustStore | undefined {
  return Object.prototype.hasOwnProperty.call(AWS_SIGNER_TRUST_STORES, partition) ? AWS_SIGNER_TRUST_STORES[partition] : undefined;
}

/** The AWS Signer trust stores as trust policy `trustStores` values (`signingAuthority:<name>`). */
export const AWS_SIGNER_TRUST_STORE_KEYS: readonly string[] = Object.values(AWS_SIGNER_TRUST_STORES).map((store) => `signingAuthority:${store.name}`);

/** The AWS Signer trust stores as trust policy `trustStores` values to their root certificates (PEM). */
export const AWS_SIGNER_TRUST_STORE_CERTIFICATES: Readonly<Record<string, string>> = Object.fromEntries(
  Object.values(AWS_SIGNER_TRUST_STORES).map((store) => [`signingAuthority:${store.name}`, store.pem]),
);
