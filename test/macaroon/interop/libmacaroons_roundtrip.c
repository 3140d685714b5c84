/* Interop driver for test/macaroon/interop-libmacaroons.test.ts, built at test time with
 *   cc -o DIR/libmacaroons_roundtrip libmacaroons_roundtrip.c -lmacaroons
 * against Debian's libmacaroons-dev. Written to the API of libmacaroons 0.3.0 (the version
 * Debian ships): macaroon_serialize writes V1 only (base64 of the V1 packets), and
 * macaroon_serialize_json the old V1 JSON, when the library was built with JSON support.
 *
 *   mint
 *     prints {"key", "exact", "tokens": [{"format": "v1", "root", "discharges": [...]}],
 *             "json": {"root", "discharges"} or null}
 *     minted by libmacaroons: a first-party caveat, a third-party caveat, and its discharge
 *     (itself with a first-party caveat) bound with macaroon_prepare_for_request.
 *   verify KEY ROOT [--discharge TOKEN]... [--exact PREDICATE]...
 *     deserializes the tokens, verifies with macaroon_verifier_satisfy_exact for each
 *     PREDICATE, prints {"ok": true} or {"ok": false, "error": "<step>: <returncode>"}.
 *   reserialize TOKEN
 *     deserializes a token and prints it serialized again (V1): libmacaroons' view of it.
 * Exit status is 0 whenever the JSON answer was printed (a refusal is an answer), 2 on usage
 * errors and 3 on an internal failure (out of memory, buffer sizing).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <macaroons.h>

static const char KEY[] = "interop root key, 32 bytes long!";
static const char CAVEAT_KEY[] = "interop caveat key for the third";
static const char *EXACT[] = {"user = alice", "time < 2030"};

#define U(s) ((const unsigned char *)(s))

static const char *rc_name(enum macaroon_returncode rc) {
  switch (rc) {
    case MACAROON_SUCCESS: return "MACAROON_SUCCESS";
    case MACAROON_OUT_OF_MEMORY: return "MACAROON_OUT_OF_MEMORY";
    case MACAROON_HASH_FAILED: return "MACAROON_HASH_FAILED";
    case MACAROON_INVALID: return "MACAROON_INVALID";
    case MACAROON_TOO_MANY_CAVEATS: return "MACAROON_TOO_MANY_CAVEATS";
    case MACAROON_CYCLE: return "MACAROON_CYCLE";
    case MACAROON_BUF_TOO_SMALL: return "MACAROON_BUF_TOO_SMALL";
    case MACAROON_NOT_AUTHORIZED: return "MACAROON_NOT_AUTHORIZED";
    case MACAROON_NO_JSON_SUPPORT: return "MACAROON_NO_JSON_SUPPORT";
  }
  return "unknown";
}

static void die(const char *what, enum macaroon_returncode rc) {
  fprintf(stderr, "libmacaroons_roundtrip: %s: %s (%d)\n", what, rc_name(rc), (int)rc);
  exit(3);
}

/* V1 serialization (base64 text), malloc'd. */
static char *serialize_v1(const struct macaroon *m) {
  enum macaroon_returncode rc = MACAROON_SUCCESS;
  size_t size = macaroon_serialize_size_hint(m);
  char *buf = malloc(size + 1);
  if (buf == NULL) die("malloc", MACAROON_OUT_OF_MEMORY);
  if (macaroon_serialize(m, buf, size, &rc) < 0) die("macaroon_serialize", rc);
  return buf;
}

/* The old V1 JSON, malloc'd; NULL when this build of the library has no JSON support. */
static char *serialize_json(const struct macaroon *m) {
  enum macaroon_returncode rc = MACAROON_SUCCESS;
  size_t size = macaroon_serialize_json_size_hint(m);
  char *buf = malloc(size + 1);
  if (buf == NULL) die("malloc", MACAROON_OUT_OF_MEMORY);
  if (macaroon_serialize_json(m, buf, size, &rc) < 0) {
    free(buf);
    if (rc == MACAROON_NO_JSON_SUPPORT) return NULL;
    die("macaroon_serialize_json", rc);
  }
  return buf;
}

/* Writes a JSON string; our tokens are base64 or JSON text, so only '"' and '\\' and
 * control characters need escaping. */
static void put_json_string(const char *s) {
  putchar('"');
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') printf("\\%c", c);
    else if (c < 0x20) printf("\\u%04x", c);
    else putchar(c);
  }
  putchar('"');
}

static int mint(void) {
  enum macaroon_returncode rc = MACAROON_SUCCESS;
  const char *loc = "https://svc", *tp_loc = "https://auth", *id = "c-root", *tp_id = "c-tp";
  struct macaroon *m0 = macaroon_create(U(loc), strlen(loc), U(KEY), strlen(KEY), U(id), strlen(id), &rc);
  if (m0 == NULL) die("macaroon_create", rc);
  struct macaroon *m1 = macaroon_add_first_party_caveat(m0, U(EXACT[0]), strlen(EXACT[0]), &rc);
  if (m1 == NULL) die("macaroon_add_first_party_caveat", rc);
  struct macaroon *root = macaroon_add_third_party_caveat(m1, U(tp_loc), strlen(tp_loc), U(CAVEAT_KEY), strlen(CAVEAT_KEY), U(tp_id), strlen(tp_id), &rc);
  if (root == NULL) die("macaroon_add_third_party_caveat", rc);
  struct macaroon *d0 = macaroon_create(U(tp_loc), strlen(tp_loc), U(CAVEAT_KEY), strlen(CAVEAT_KEY), U(tp_id), strlen(tp_id), &rc);
  if (d0 == NULL) die("macaroon_create (discharge)", rc);
  struct macaroon *d1 = macaroon_add_first_party_caveat(d0, U(EXACT[1]), strlen(EXACT[1]), &rc);
  if (d1 == NULL) die("macaroon_add_first_party_caveat (discharge)", rc);
  struct macaroon *bound = macaroon_prepare_for_request(root, d1, &rc);
  if (bound == NULL) die("macaroon_prepare_for_request", rc);

  char *root_v1 = serialize_v1(root), *bound_v1 = serialize_v1(bound);
  char *root_json = serialize_json(root), *bound_json = serialize_json(bound);
  printf("{\"key\": ");
  put_json_string(KEY);
  printf(", \"caveat_key\": ");
  put_json_string(CAVEAT_KEY);
  printf(", \"exact\": [");
  put_json_string(EXACT[0]);
  printf(", ");
  put_json_string(EXACT[1]);
  printf("], \"tokens\": [{\"format\": \"v1\", \"root\": ");
  put_json_string(root_v1);
  printf(", \"discharges\": [");
  put_json_string(bound_v1);
  printf("]}], \"json\": ");
  if (root_json != NULL && bound_json != NULL) {
    printf("{\"root\": ");
    put_json_string(root_json);
    printf(", \"discharges\": [");
    put_json_string(bound_json);
    printf("]}");
  } else {
    printf("null");
  }
  printf("}\n");

  free(root_v1);
  free(bound_v1);
  free(root_json);
  free(bound_json);
  struct macaroon *all[] = {m0, m1, root, d0, d1, bound};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) macaroon_destroy(all[i]);
  return 0;
}

static void refuse(const char *step, enum macaroon_returncode rc) {
  printf("{\"ok\": false, \"error\": \"%s: %s\"}\n", step, rc_name(rc));
}

static int verify(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: verify KEY ROOT [--discharge TOKEN]... [--exact PREDICATE]...\n");
    return 2;
  }
  const char *key = argv[0];
  enum macaroon_returncode rc = MACAROON_SUCCESS;
  struct macaroon **ds = calloc((size_t)argc, sizeof *ds);
  struct macaroon_verifier *v = macaroon_verifier_create();
  if (ds == NULL || v == NULL) die("allocation", MACAROON_OUT_OF_MEMORY);
  size_t nds = 0;
  int status = 0;
  struct macaroon *root = macaroon_deserialize(argv[1], &rc);
  if (root == NULL) {
    refuse("macaroon_deserialize (root)", rc);
    goto out;
  }
  for (int i = 2; i < argc; i++) {
    if (i + 1 >= argc) {
      fprintf(stderr, "%s needs a value\n", argv[i]);
      status = 2;
      goto out;
    }
    if (strcmp(argv[i], "--discharge") == 0) {
      struct macaroon *d = macaroon_deserialize(argv[++i], &rc);
      if (d == NULL) {
        refuse("macaroon_deserialize (discharge)", rc);
        goto out;
      }
      ds[nds++] = d;
    } else if (strcmp(argv[i], "--exact") == 0) {
      const char *p = argv[++i];
      if (macaroon_verifier_satisfy_exact(v, U(p), strlen(p), &rc) < 0) die("macaroon_verifier_satisfy_exact", rc);
    } else {
      fprintf(stderr, "unknown option %s\n", argv[i]);
      status = 2;
      goto out;
    }
  }
  if (macaroon_verify(v, root, U(key), strlen(key), ds, nds, &rc) == 0) printf("{\"ok\": true}\n");
  else refuse("macaroon_verify", rc);
out:
  for (size_t i = 0; i < nds; i++) macaroon_destroy(ds[i]);
  free(ds);
  if (root != NULL) macaroon_destroy(root);
  macaroon_verifier_destroy(v);
  return status;
}

static int reserialize(const char *token) {
  enum macaroon_returncode rc = MACAROON_SUCCESS;
  struct macaroon *m = macaroon_deserialize(token, &rc);
  if (m == NULL) {
    refuse("macaroon_deserialize", rc);
    return 0;
  }
  char *text = serialize_v1(m);
  printf("{\"ok\": true, \"v1\": ");
  put_json_string(text);
  printf("}\n");
  free(text);
  macaroon_destroy(m);
  return 0;
}

int main(int argc, char **argv) {
  if (argc >= 2 && strcmp(argv[1], "mint") == 0) return mint();
  if (argc >= 2 && strcmp(argv[1], "verify") == 0) return verify(argc - 2, argv + 2);
  if (argc == 3 && strcmp(argv[1], "reserialize") == 0) return reserialize(argv[2]);
  fprintf(stderr, "usage: %s mint | verify KEY ROOT [--discharge T]... [--exact P]... | reserialize TOKEN\n", argv[0]);
  return 2;
}
