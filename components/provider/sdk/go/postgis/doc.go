// Hardened PostGIS on AWS: security groups that never open the database to the internet, RDS PostgreSQL with enforced TLS, least-privilege roles and a utility database that onboards tenants. The components of github.com/postgis-platform/deployer.
package postgis
