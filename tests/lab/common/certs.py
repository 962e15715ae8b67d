"""The lab's certificate authority and the server certificates it issues.

Every lab server speaks HTTPS with a certificate from this CA, and clients trust it through an explicit CA bundle
(``DIR/certs/ca.pem``): the lab never asks anyone to turn certificate verification off.
"""
import datetime
import ipaddress
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

VALID_DAYS = 825


def _certs_dir(lab_dir):
    path = os.path.join(lab_dir, "certs")
    os.makedirs(path, mode=0o700, exist_ok=True)
    return path


def _write_key(path, key):
    data = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def _now():
    return datetime.datetime.now(datetime.timezone.utc)


def ca_paths(lab_dir):
    directory = _certs_dir(lab_dir)
    return os.path.join(directory, "ca.pem"), os.path.join(directory, "ca-key.pem")


def ensure_ca(lab_dir):
    """Create the lab CA once; return the path of its PEM certificate (the CA bundle clients use)."""
    cert_path, key_path = ca_paths(lab_dir)
    if os.path.exists(cert_path) and os.path.exists(key_path):
        return cert_path
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Hybrid Worker Lab CA")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_now() - datetime.timedelta(days=1))
        .not_valid_after(_now() + datetime.timedelta(days=VALID_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                key_encipherment=False, data_encipherment=False, key_agreement=False, encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write_key(key_path, key)
    with open(cert_path, "wb") as handle:
        handle.write(cert.public_bytes(serialization.Encoding.PEM))
    return cert_path


def ensure_server_cert(lab_dir, name, hostnames=("localhost",), addresses=("127.0.0.1",)):
    """Issue (once) a server certificate for ``name``; return ``(cert_path, key_path)`` for ``ssl.load_cert_chain``.

    ``hostnames`` and ``addresses`` become the subject alternative names, which is what clients check.
    """
    directory = _certs_dir(lab_dir)
    cert_path = os.path.join(directory, name + ".pem")
    key_path = os.path.join(directory, name + "-key.pem")
    if os.path.exists(cert_path) and os.path.exists(key_path):
        return cert_path, key_path
    ca_cert_path, ca_key_path = ca_paths(lab_dir)
    ensure_ca(lab_dir)
    with open(ca_cert_path, "rb") as handle:
        ca_cert = x509.load_pem_x509_certificate(handle.read())
    with open(ca_key_path, "rb") as handle:
        ca_key = serialization.load_pem_private_key(handle.read(), password=None)
    key = ec.generate_private_key(ec.SECP256R1())
    sans = [x509.DNSName(h) for h in hostnames] + [x509.IPAddress(ipaddress.ip_address(a)) for a in addresses]
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostnames[0] if hostnames else name)]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_now() - datetime.timedelta(days=1))
        .not_valid_after(_now() + datetime.timedelta(days=VALID_DAYS))
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_cert.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    _write_key(key_path, key)
    with open(cert_path, "wb") as handle:
        handle.write(cert.public_bytes(serialization.Encoding.PEM))
    return cert_path, key_path
