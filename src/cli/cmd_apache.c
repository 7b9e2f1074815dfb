/* prep apache: prints an Apache 2.4 configuration that serves a `prep export --link`
 * docroot with the response header policy of `prep serve` (docs/apache.md).
 *
 * The configuration never serves through the switching symlink: every request reads
 * the current sequence once from DOCROOT.sitios/corte.map (a mod_rewrite txt map the
 * export rewrites after each switch) and is mapped into DOCROOT.sitios/<seq>/, a tree
 * that is never changed while it exists; x-prep-corte is that same value. So the bytes,
 * their length and the header always belong to one cut, however the switch falls. */
#include "cli.h"
#include "prep/policy.h"
#include "prep/tls.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define APACHE_MODULES_DIR "/usr/lib/apache2/modules"
#define APACHE_ARG_MAX 1024 /* bytes in one path, name or origin list */

typedef struct apache_conf {
    const char *docroot;   /* absolute; the symlink itself (not resolved) */
    const char *name;
    const char *listen;
    const char *cert, *key;
    const char *origins;   /* "" or space-separated origins */
    const char *http_listen; /* NULL: no redirect vhost */
    const char *modules;
    const char *standalone; /* NULL: a Debian sites-available snippet */
    char https_port[8];     /* "" for 443 */
} apache_conf;

/* Characters allowed in paths written into the configuration: no quoting needed in a
 * directive nor in a RewriteRule substitution (no space, quote, '$', '%', '\\'). */
static int safe_path(const char *s)
{
    if (!s || s[0] != '/' || strlen(s) > APACHE_ARG_MAX) return 0;
    for (const char *c = s; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              strchr("/._-+@,=", *c)))
            return 0;
    size_t n = strlen(s);
    return !strstr(s, "/../") && !(n >= 3 && !strcmp(s + n - 3, "/.."));
}

static int safe_name(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 253) return 0;
    for (const char *c = s; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '.' ||
              *c == '-'))
            return 0;
    return s[0] != '-' && s[0] != '.';
}

/* ADDR:PORT with ADDR an IPv4 address, [IPv6], '*' or a host name; port 1..65535. The
 * port (as text) goes to port_out. */
static int parse_listen(const char *s, char port_out[8])
{
    if (!s || strlen(s) > 300) return 0;
    const char *colon = strrchr(s, ':');
    if (!colon || colon == s) return 0;
    for (const char *c = s; c < colon; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              strchr(".-*[]:", *c)))
            return 0;
    int64_t p;
    if (strlen(colon + 1) > 5 || prep_parse_i64(colon + 1, &p) || p < 1 || p > 65535) return 0;
    snprintf(port_out, 8, "%d", (int)p);
    return 1;
}

/* The security fields of the policy table (include/prep/policy.h), on every response,
 * errors and redirects included; HSTS only over HTTPS. The origins were checked by
 * prep_policy_origins_ok: nothing in a value needs quoting in a directive. */
static void security_headers(FILE *f, const apache_conf *c, int https)
{
    prep_policy_security sec;
    /* c->origins passed prep_policy_origins_ok when the options were read */
    prep_err pe = prep_policy_security_make(c->origins, https, PREP_POLICY_HSTS_MAX_AGE, &sec);
    PREP_ASSERT(pe == PREP_OK);
    (void)pe;
    prep_policy_field fl[4];
    size_t n = prep_policy_security_fields(&sec, fl);
    fprintf(f, "  # The security fields of the policy table (include/prep/policy.h), on every response.\n");
    for (size_t i = 0; i < n; i++)
        fprintf(f, "  Header always set %s \"%.*s\"%s\n", fl[i].name, (int)fl[i].value_len, fl[i].value,
                !strcmp(fl[i].name, "strict-transport-security") ? " \"expr=%{HTTPS} == 'on'\"" : "");
}

/* The statuses that answer with a file, and so carry its path's cache class. */
#define FILE_STATUSES "%%{REQUEST_STATUS} -in {'200', '206', '304'}"

/* Step 4 of the mapping: the path's class in the policy table, as PREP_CC (its tag), and
 * for an archived cut its sequence as PREP_ARCH. The table's first matching rule decides;
 * with mod_rewrite the last rule that sets PREP_CC wins, so the rules go last to first. */
static void class_rules(FILE *f)
{
    size_t nr;
    const prep_policy_rule *r = prep_policy_rules(&nr);
    fprintf(f,
            "  # 4. The path's class in the response policy (include/prep/policy.h; the first row of\n"
            "  #    its table that matches decides, so the rows are written here last to first).\n"
            "  RewriteRule ^ - [E=PREP_CC:%s]\n",
            prep_policy_class_get(PREP_POLICY_PAGE)->tag);
    for (size_t i = nr; i-- > 0;)
        fprintf(f, "  RewriteRule ^/%s - [E=PREP_CC:%s%s]\n", r[i].regex + 1, prep_policy_class_get(r[i].cls)->tag,
                r[i].cls == PREP_POLICY_ARCHIVE ? ",E=PREP_ARCH:$1" : "");
    fprintf(f, "  # The open-data files answer with access-control-allow-origin (PREP_POLICY_CORS_REGEX).\n"
               "  RewriteRule %s - [E=PREP_CORS:1]\n",
            PREP_POLICY_CORS_REGEX);
}

/* cache-control: the class's value on answers with a file; no-cache on every other
 * answer (errors, redirects), whatever the path. */
static void cache_headers(FILE *f)
{
    size_t nc;
    const prep_policy_class_info *k = prep_policy_classes(&nc);
    fprintf(f, "  # cache-control: the path's class on 200, 206 and 304; every other answer (errors,\n"
            "  # redirects): no-cache, whatever the path.\n");
    for (size_t i = 0; i < nc; i++) {
        if (k[i].cls == PREP_POLICY_ANSWER) continue;
        fprintf(f, "  Header always set cache-control \"%s\" \"expr=" FILE_STATUSES " && reqenv('PREP_CC') == '%s'\"\n",
                k[i].cache_control, k[i].tag);
    }
    fprintf(f, "  Header always set cache-control \"%s\" \"expr=! " FILE_STATUSES "\"\n",
            prep_policy_class_get(PREP_POLICY_ANSWER)->cache_control);
}

/* Step 2b: the section lookup (docs/formats/site.md, "My section"), as prep serve answers
 * it: seccion/?n=N, N digits with or without leading zeros, naming a section the served cut
 * has: 303 to its page (mod_rewrite makes the Location absolute, https://host/seccion/NNNN/,
 * where prep serve sends the relative "NNNN/": the same target; no directive can shorten
 * the Location of a redirect Apache itself generates); anything else after "n=": 404 with
 * the cut's seccion/no-encontrada.html. The number is padded to four digits by one rule
 * per length. */
static void lookup_rules(FILE *f, const char *d)
{
    static const char *const pad[] = {"000", "00", "0", ""};
    fprintf(f, "  # 2b. The section lookup: seccion/?n=N, and a national process's seccion/EE/?n=N\n"
               "  # (docs/formats/site.md, \"My section\").\n");
    for (int len = 1; len <= 4; len++) {
        fprintf(f, "  RewriteCond %%{QUERY_STRING} ^n=0*([1-9][0-9]{%d})$\n", len - 1);
        fprintf(f, "  RewriteRule ^/(embebido/)?seccion/([0-9]{2}/)?$ - [E=PREP_SEC:%s%%1]\n", pad[len - 1]);
    }
    fprintf(f,
            "  RewriteCond %%{ENV:PREP_SEC} ^[0-9]{4}$\n"
            "  RewriteCond %s.sitios/%%{ENV:PREP_CORTE}/$1seccion/$2%%{ENV:PREP_SEC}/index.html -f\n"
            "  RewriteRule ^/(embebido/)?seccion/([0-9]{2}/)?$ /$1seccion/$2%%{ENV:PREP_SEC}/ [R=303,QSD,L]\n"
            "  RewriteCond %%{QUERY_STRING} ^n=\n"
            "  RewriteRule ^/(embebido/)?seccion/([0-9]{2}/)?$ - [R=404,L]\n",
            d);
}

/* The lookup's 404 page and relative Location (see lookup_rules): the 404 page of the
 * lookup asked, seccion/ or seccion/EE/ (its own directory, so its relative links hold). */
static void lookup_answers(FILE *f)
{
    fprintf(f,
            "  # The section lookup's 404 is the cut's own page (it carries the cut's stamp; no-cache\n"
            "  # like every error), as prep serve sends; the groups name the lookup's directory.\n"
            "  <LocationMatch \"^/(?<pre>embebido/)?seccion/(?<ent>[0-9]{2}/)?$\">\n"
            "    ErrorDocument 404 /%%{env:MATCH_PRE}seccion/%%{env:MATCH_ENT}no-encontrada.html\n"
            "  </LocationMatch>\n");
}

static void print_vhost(FILE *f, const apache_conf *c)
{
    const char *d = c->docroot;
    fprintf(f,
            "<VirtualHost %s>\n"
            "  ServerName %s\n"
            "  Protocols h2 http/1.1\n"
            "  SSLEngine on\n"
            "  SSLCertificateFile %s\n"
            "  SSLCertificateKeyFile %s\n"
            "  # TLS 1.2 and 1.3 only, forward-secret AEAD suites only, elliptic-curve key exchange\n"
            "  # only (no ffdhe groups: a cheap CPU flood) - prep serve's policy, include/prep/tls.h.\n"
            "  SSLProtocol -all +TLSv1.2 +TLSv1.3\n"
            "  SSLCipherSuite " PREP_TLS12_CIPHERS "\n"
            "  SSLOpenSSLConfCmd Groups " PREP_TLS_GROUPS "\n"
            "  SSLHonorCipherOrder off\n"
            "  SSLCompression off\n"
            "\n"
            "  # The symlink `prep export --link` switches; requests are mapped below into the tree\n"
            "  # it names, so DocumentRoot is only a fallback.\n"
            "  DocumentRoot %s\n"
            "  FileETag MTime Size\n"
            "  AddDefaultCharset Off\n"
            "  DirectorySlash On\n"
            "\n"
            "  RewriteEngine On\n"
            "  # \"corte <seq>\", rewritten by each export after the switch (re-read when its mtime changes).\n"
            "  RewriteMap prepcorte txt:%s.sitios/corte.map\n"
            "  # 1. The cut, looked up once per request: the file and x-prep-corte both use this value.\n"
            "  RewriteRule ^ - [E=PREP_CORTE:${prepcorte:corte|0}]\n"
            "  # 2. Only GET and HEAD (405, with allow: GET, HEAD below).\n"
            "  RewriteCond %%{REQUEST_METHOD} !^(GET|HEAD)$\n"
            "  RewriteRule ^ - [R=405,L]\n",
            c->listen, c->name, c->cert, c->key, d, d);
    lookup_rules(f, d);
    fprintf(f, "  # 3. Pages: \"/dir/\" is \"/dir/index.html\" (no directory index, no listing).\n"
               "  RewriteRule ^/(.*/)?$ /$1index.html\n");
    class_rules(f);
    fprintf(f,
            "  # 5. Into the cut's tree (never changed while it exists).\n"
            "  RewriteRule ^/(.*)$ %s.sitios/%%{ENV:PREP_CORTE}/$1\n"
            "  # 6. A directory without index.html is 404 (one with it: mod_dir redirects to \"/dir/\").\n"
            "  RewriteCond $1 -d\n"
            "  RewriteCond $1/index.html !-f\n"
            "  RewriteRule ^(.*)$ - [R=404,L]\n"
            "  # 7. Precompressed twins: br (HTTPS only), else gzip, when accepted with q > 0 and the\n"
            "  #    twin exists; never for a Range request (ranges apply to the identity bytes).\n"
            "  RewriteCond %%{HTTPS} =on\n"
            "  RewriteCond %%{HTTP:Range} ^$\n"
            "  RewriteCond %%{HTTP:Accept-Encoding} (^|[\\s,])br\\s*(;\\s*q\\s*=\\s*(1(\\.0*)?|0?\\.[0-9]*[1-9][0-9]*)\\s*)?(,|$) [NC]\n"
            "  RewriteCond $1.br -f\n"
            "  RewriteRule ^(.+\\.(html|css|js|json|csv|txt|svg|xml|geojson))$ $1.br [E=PREP_ENC:br,L]\n"
            "  RewriteCond %%{HTTP:Range} ^$\n"
            "  RewriteCond %%{HTTP:Accept-Encoding} (^|[\\s,])(x-)?gzip\\s*(;\\s*q\\s*=\\s*(1(\\.0*)?|0?\\.[0-9]*[1-9][0-9]*)\\s*)?(,|$) [NC]\n"
            "  RewriteCond $1.gz -f\n"
            "  RewriteRule ^(.+\\.(html|css|js|json|csv|txt|svg|xml|geojson))$ $1.gz [E=PREP_ENC:gzip,L]\n"
            "\n"
            "  # The manifest's media types for what prep publishes.\n"
            "  AddType \"text/html; charset=utf-8\" .html\n"
            "  AddType \"text/css; charset=utf-8\" .css\n"
            "  AddType \"text/javascript; charset=utf-8\" .js\n"
            "  AddType \"application/json\" .json\n"
            "  AddType \"text/csv; charset=utf-8\" .csv\n"
            "  AddType \"text/plain; charset=utf-8\" .txt\n"
            "  AddType \"image/svg+xml\" .svg\n"
            "  AddType \"application/geo+json\" .geojson\n"
            "  <Files ~ \"^SHA256SUMS(\\.sig)?$\">\n"
            "    ForceType \"text/plain; charset=utf-8\"\n"
            "  </Files>\n"
            "  # A twin keeps its file's type and says its coding (only when step 7 chose it: a\n"
            "  # published file named *.gz is not re-labelled).\n"
            "  <If \"reqenv('PREP_ENC') == 'br'\">\n"
            "    RemoveType .br\n"
            "    AddEncoding br .br\n"
            "    Header unset accept-ranges\n"
            "  </If>\n"
            "  <If \"reqenv('PREP_ENC') == 'gzip'\">\n"
            "    RemoveType .gz\n"
            "    AddEncoding gzip .gz\n"
            "    Header unset accept-ranges\n"
            "  </If>\n"
            "\n",
            d);
    cache_headers(f);
    fprintf(f,
            "  # access-control-allow-origin on the open-data files only (PREP_POLICY_CORS_REGEX), on\n"
            "  # answers with the file, as prep serve sends it.\n"
            "  Header always set access-control-allow-origin \"%s\" \"expr=" FILE_STATUSES " && reqenv('PREP_CORS') == '1'\"\n",
            PREP_POLICY_CORS_ORIGIN);
    lookup_answers(f);
    fprintf(f,
            "  # Compressible types vary with accept-encoding (identity answers too).\n"
            "  Header always merge vary \"accept-encoding\" \"expr=%%{REQUEST_STATUS} -in {'200', '206', '304'} && "
            "%%{CONTENT_TYPE} =~ m#^(text/|application/(json|javascript|xml|geo\\+json|manifest\\+json)|image/svg\\+xml)#\"\n"
            "  Header always set allow \"GET, HEAD\" \"expr=%%{REQUEST_STATUS} == '405'\"\n"
            "  # x-prep-corte: the cut the body came from: the served cut, or an archived cut's own\n"
            "  # sequence for its answers (when not newer than the served cut), as prep serve says.\n"
            "  Header always set x-prep-corte \"%%{PREP_CORTE}e\" env=PREP_CORTE\n"
            "  Header always set x-prep-corte \"%%{PREP_ARCH}e\" \"expr=-n reqenv('PREP_ARCH') && "
            "reqenv('PREP_ARCH') -le reqenv('PREP_CORTE')\"\n");
    security_headers(f, c, 1);
    fprintf(f,
            "\n"
            "  <Directory %s.sitios>\n"
            "    # The trees' cortes/ is a symlink to the archive: follow it; never list a directory.\n"
            "    Options -Indexes +FollowSymLinks -MultiViews\n"
            "    AllowOverride None\n"
            "    Require all granted\n"
            "  </Directory>\n"
            "  <Directory %s.cortes>\n"
            "    Options -Indexes +FollowSymLinks -MultiViews\n"
            "    AllowOverride None\n"
            "    Require all granted\n"
            "  </Directory>\n"
            "</VirtualHost>\n",
            d, d);
    if (c->http_listen) {
        fprintf(f,
                "\n"
                "# Plain HTTP: every request is redirected to HTTPS, with the policy's fields of a\n"
                "# redirect (as prep serve's plain listener answers).\n"
                "<VirtualHost %s>\n"
                "  ServerName %s\n"
                "  RewriteEngine On\n"
                "  RewriteMap prepcorte txt:%s.sitios/corte.map\n"
                "  RewriteRule ^ - [E=PREP_CORTE:${prepcorte:corte|0}]\n"
                "  RewriteRule ^/?(.*)$ https://%s%s%s/$1 [R=301,L,NE]\n"
                "  Header always set cache-control \"%s\"\n"
                "  Header always set x-prep-corte \"%%{PREP_CORTE}e\" env=PREP_CORTE\n",
                c->http_listen, c->name, d, c->name, *c->https_port ? ":" : "", c->https_port,
                prep_policy_class_get(PREP_POLICY_ANSWER)->cache_control);
        security_headers(f, c, 0);
        fprintf(f, "</VirtualHost>\n");
    }
}

static void print_standalone(FILE *f, const apache_conf *c)
{
    const char *t = c->standalone, *m = c->modules;
    fprintf(f,
            "# A complete Apache 2.4 configuration for `apache2 -d %s -f %s/httpd.conf -DFOREGROUND`.\n"
            "ServerRoot %s\n"
            "PidFile %s/httpd.pid\n"
            "ErrorLog %s/error.log\n"
            "LogLevel warn\n"
            "DefaultRuntimeDir %s\n"
            "Mutex file:%s\n"
            "# unixd and log_config are built into Debian's apache2: not loaded here.\n",
            t, t, t, t, t, t, t);
    static const char *mods[][2] = {
        {"mpm_event_module", "mod_mpm_event.so"}, {"authz_core_module", "mod_authz_core.so"},
        {"mime_module", "mod_mime.so"},           {"socache_shmcb_module", "mod_socache_shmcb.so"},
        {"ssl_module", "mod_ssl.so"},             {"http2_module", "mod_http2.so"},
        {"rewrite_module", "mod_rewrite.so"},     {"headers_module", "mod_headers.so"},
        {"dir_module", "mod_dir.so"},
    };
    for (size_t i = 0; i < sizeof mods / sizeof mods[0]; i++)
        fprintf(f, "LoadModule %s %s/%s\n", mods[i][0], m, mods[i][1]);
    fprintf(f,
            "User nobody\n"
            "Group nogroup\n"
            "ServerName %s\n"
            "ServerTokens Prod\n"
            "ServerSignature Off\n"
            "TraceEnable Off\n"
            "TypesConfig /etc/mime.types\n"
            "SSLSessionCache shmcb:%s/ssl_scache(512000)\n"
            "Listen %s\n",
            c->name, t, c->listen);
    if (c->http_listen) fprintf(f, "Listen %s\n", c->http_listen);
    fprintf(f,
            "DocumentRoot %s\n"
            "<Directory />\n"
            "  Options None\n"
            "  AllowOverride None\n"
            "  Require all denied\n"
            "</Directory>\n\n",
            c->docroot);
    print_vhost(f, c);
}

/* An absolute form of p without resolving its last component (the symlink itself). */
static char *absolute_keep_last(const char *p)
{
    char *copy = prep_xstrdup(p);
    size_t n = strlen(copy);
    while (n > 1 && copy[n - 1] == '/') copy[--n] = 0;
    char *sl = strrchr(copy, '/');
    const char *last = sl ? sl + 1 : copy;
    char *parent = sl ? (sl == copy ? prep_xstrdup("/") : prep_xstrndup(copy, (size_t)(sl - copy))) : prep_xstrdup(".");
    char buf[PATH_MAX];
    char *r = NULL;
    if (*last && strcmp(last, ".") && strcmp(last, "..") && realpath(parent, buf)) {
        size_t bl = strlen(buf);
        r = malloc(bl + strlen(last) + 2);
        if (r) sprintf(r, "%s%s%s", buf, bl > 1 ? "/" : "", last);
    }
    free(parent);
    free(copy);
    return r;
}

int cmd_apache(int argc, char **argv)
{
    cli_opt opts[] = {
        {"docroot", "DIR", "the --out of 'prep export --link' (a symlink; required)", NULL},
        {"server-name", "NAME", "the site's host name (required)", NULL},
        {"listen", "ADDR:PORT", "the HTTPS address (default *:443)", NULL},
        {"tls-cert", "FILE", "certificate chain, PEM (default /etc/letsencrypt/live/NAME/fullchain.pem)", NULL},
        {"tls-key", "FILE", "its private key, PEM (default /etc/letsencrypt/live/NAME/privkey.pem)", NULL},
        {"frame-ancestors", "ORIGINS", "portal origins allowed to embed the site, space-separated", NULL},
        {"http-listen", "ADDR:PORT", "also listen on plain HTTP there, redirecting to HTTPS", NULL},
        {"modules-dir", "DIR", "with --standalone: Apache's modules (default " APACHE_MODULES_DIR ")", NULL},
        {"standalone", "DIR", "print a complete httpd.conf whose server root is DIR", NULL},
        {NULL, NULL, NULL, NULL},
    };
    int help;
    char err[256];
    if (cli_parse(argc - 1, argv + 1, opts, &help, err, sizeof err)) {
        fprintf(stderr, "prep apache: %s (see 'prep apache --help')\n", err);
        return CLI_USAGE;
    }
    if (help) {
        cli_usage(stdout, "apache",
                  "--docroot DIR --server-name NAME [--listen ADDR:PORT] [--tls-cert FILE --tls-key FILE]\n"
                  "       [--frame-ancestors ORIGINS] [--http-listen ADDR:PORT] [--standalone DIR [--modules-dir DIR]]",
                  "Prints an Apache 2.4 configuration serving a 'prep export --link' docroot with the\n"
                  "same response fields as 'prep serve': TLS 1.2+, HTTP/2, the precompressed twins,\n"
                  "cache-control by path, the security fields and x-prep-corte (docs/apache.md).\n"
                  "Default: a virtual host for /etc/apache2/sites-available (Debian). --standalone DIR:\n"
                  "a whole httpd.conf for 'apache2 -d DIR -f DIR/httpd.conf -DFOREGROUND'.",
                  opts);
        return CLI_OK;
    }
    apache_conf c = {0};
    const char *docroot = cli_get(opts, "docroot");
    c.name = cli_get(opts, "server-name");
    if (!docroot || !c.name) {
        fprintf(stderr, "prep apache: --docroot DIR and --server-name NAME are required (see 'prep apache --help')\n");
        return CLI_USAGE;
    }
    if (!safe_name(c.name)) {
        fprintf(stderr, "prep apache: --server-name '%s' is not a host name (letters, digits, '.', '-')\n", c.name);
        return CLI_USAGE;
    }
    char *abs_doc = absolute_keep_last(docroot);
    char *abs_sa = NULL, *cert = NULL, *key = NULL;
    int rc = CLI_USAGE;
    char port[8];
    if (!abs_doc || !safe_path(abs_doc)) {
        fprintf(stderr,
                "prep apache: --docroot '%s': its parent directory must exist, and the path may hold only "
                "letters, digits and / . _ - + @ , =\n",
                docroot);
        goto out;
    }
    c.docroot = abs_doc;
    c.listen = cli_get(opts, "listen") ? cli_get(opts, "listen") : "*:443";
    if (!parse_listen(c.listen, port)) {
        fprintf(stderr, "prep apache: --listen '%s' is not ADDR:PORT (port 1..65535)\n", c.listen);
        goto out;
    }
    if (strcmp(port, "443")) memcpy(c.https_port, port, sizeof port);
    c.http_listen = cli_get(opts, "http-listen");
    if (c.http_listen && !parse_listen(c.http_listen, port)) {
        fprintf(stderr, "prep apache: --http-listen '%s' is not ADDR:PORT (port 1..65535)\n", c.http_listen);
        goto out;
    }
    const char *tc = cli_get(opts, "tls-cert"), *tk = cli_get(opts, "tls-key");
    if (!tc != !tk) {
        fprintf(stderr, "prep apache: give both --tls-cert and --tls-key, or neither\n");
        goto out;
    }
    cert = tc ? absolute_keep_last(tc) : prep_xstrdup("/etc/letsencrypt/live/x/fullchain.pem");
    key = tk ? absolute_keep_last(tk) : prep_xstrdup("/etc/letsencrypt/live/x/privkey.pem");
    if (!tc) {
        free(cert);
        free(key);
        size_t n = strlen(c.name) + 64;
        cert = malloc(n);
        key = malloc(n);
        if (!cert || !key) goto out;
        snprintf(cert, n, "/etc/letsencrypt/live/%s/fullchain.pem", c.name);
        snprintf(key, n, "/etc/letsencrypt/live/%s/privkey.pem", c.name);
    }
    if (!cert || !key || !safe_path(cert) || !safe_path(key)) {
        fprintf(stderr, "prep apache: --tls-cert/--tls-key: the directory must exist and the path may hold only "
                        "letters, digits and / . _ - + @ , =\n");
        goto out;
    }
    c.cert = cert;
    c.key = key;
    c.origins = cli_get(opts, "frame-ancestors") ? cli_get(opts, "frame-ancestors") : "";
    if (!prep_policy_origins_ok(c.origins)) {
        fprintf(stderr, "prep apache: --frame-ancestors '%s': origins like https://portal.example, space-separated\n",
                c.origins);
        goto out;
    }
    c.modules = cli_get(opts, "modules-dir") ? cli_get(opts, "modules-dir") : APACHE_MODULES_DIR;
    if (!safe_path(c.modules)) {
        fprintf(stderr, "prep apache: --modules-dir '%s' must be an absolute plain path\n", c.modules);
        goto out;
    }
    if (cli_get(opts, "standalone")) {
        abs_sa = absolute_keep_last(cli_get(opts, "standalone"));
        if (!abs_sa || !safe_path(abs_sa)) {
            fprintf(stderr, "prep apache: --standalone '%s': its parent must exist; plain path characters only\n",
                    cli_get(opts, "standalone"));
            goto out;
        }
        c.standalone = abs_sa;
        print_standalone(stdout, &c);
    } else {
        printf("# prep apache: a virtual host for /etc/apache2/sites-available/ (docs/apache.md).\n"
               "# Needs: a2enmod ssl headers rewrite http2 mime dir; the event MPM (HTTP/2);\n"
               "# %s kept by 'prep export --link' or 'prep receive --export %s --link'.\n",
               c.docroot, c.docroot);
        print_vhost(stdout, &c);
    }
    rc = fflush(stdout) == 0 && !ferror(stdout) ? CLI_OK : CLI_USAGE;
out:
    free(abs_doc);
    free(abs_sa);
    free(cert);
    free(key);
    return rc;
}
