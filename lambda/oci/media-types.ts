/** OCI and Docker media types, and the Notary artifact types stored next to an image. */
export const MediaType = {
  OCI_MANIFEST: 'application/vnd.oci.image.manifest.v1+json',
  OCI_INDEX: 'application/vnd.oci.image.index.v1+json',
  OCI_EMPTY: 'application/vnd.oci.empty.v1+json',
  OCI_CONFIG: 'application/vnd.oci.image.config.v1+json',
  OCI_LAYER_TAR_GZIP: 'application/vnd.oci.image.layer.v1.tar+gzip',
  DOCKER_MANIFEST: 'application/vnd.docker.distribution.manifest.v2+json',
  DOCKER_MANIFEST_LIST: 'application/vnd.docker.distribution.manifest.list.v2+json',
  NOTARY_SIGNATURE: 'application/vnd.cncf.notary.signature',
  NOTARY_PAYLOAD: 'application/vnd.cncf.notary.payload.v1+json',
  JWS: 'application/jose+json',
  COSE: 'application/cose',
} as const;

/** The manifest media types a registry may answer with when asked for an image. */
export const MANIFEST_MEDIA_TYPES: readonly string[] = [
  MediaType.OCI_MANIFEST,
  MediaType.OCI_INDEX,
  MediaType.DOCKER_MANIFEST,
  MediaType.DOCKER_MANIFEST_LIST,
];

/** The 2-byte `{}` blob used as the config of OCI 1.1 artifacts. */
export const EMPTY_JSON_DIGEST = 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a';
